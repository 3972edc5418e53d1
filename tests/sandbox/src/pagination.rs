//! DrChrono-style list pages: `{"previous", "results", "next"}` with
//! absolute links that carry the caller's filters plus an opaque cursor.
//!
//! The cursor is keyset-based (after/before an id), like DRF's
//! `CursorPagination`, so a record edited mid-walk is neither skipped nor
//! served twice. It also carries the page's index, which is how `fail_page`
//! knows where in a walk it is. `page=N` is accepted as an entry point for
//! hand-written URLs; the links the sandbox emits always use `cursor`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};
use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    Start,
    After {
        id: i64,
        index: usize,
    },
    Before {
        id: i64,
        index: usize,
    },
    /// One-based, as people write it.
    Page(usize),
}

impl Position {
    /// From the query: `cursor` wins over `page`; both absent is the start.
    pub(crate) fn from_params(params: &[(String, String)]) -> Result<Position, &'static str> {
        if let Some(cursor) = param(params, "cursor") {
            return decode(cursor).ok_or("Invalid cursor.");
        }
        match param(params, "page") {
            None => Ok(Position::Start),
            Some(page) => match page.parse::<usize>() {
                Ok(page) if page >= 1 => Ok(Position::Page(page)),
                _ => Err("Invalid page."),
            },
        }
    }
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// `page_size` as DrChrono takes it: default and maximum, clamped to the
/// maximum rather than refused. A non-number or zero is refused, so a client
/// bug shows up instead of silently paging by 250.
pub(crate) fn page_size(params: &[(String, String)], max: usize) -> Result<usize, &'static str> {
    match param(params, "page_size") {
        None => Ok(max),
        Some(text) => match text.trim().parse::<usize>() {
            Ok(size) if size >= 1 => Ok(size.min(max)),
            _ => Err("Invalid page_size."),
        },
    }
}

fn encode(position: Position) -> String {
    let text = match position {
        Position::After { id, index } => format!("a={id}&n={index}"),
        Position::Before { id, index } => format!("b={id}&n={index}"),
        Position::Start | Position::Page(_) => "s=0&n=0".to_owned(),
    };
    hex::encode(text)
}

fn decode(cursor: &str) -> Option<Position> {
    let text = String::from_utf8(hex::decode(cursor.trim()).ok()?).ok()?;
    let (mark, rest) = text.split_once('&')?;
    let index = rest.strip_prefix("n=")?.parse().ok()?;
    match mark.split_once('=')? {
        ("a", id) => Some(Position::After { id: id.parse().ok()?, index }),
        ("b", id) => Some(Position::Before { id: id.parse().ok()?, index }),
        ("s", _) => Some(Position::Start),
        _ => None,
    }
}

/// The slice `[start, end)` of the filtered, id-ordered records one page
/// covers, and its zero-based index within the walk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) index: usize,
}

pub(crate) fn window(ids: &[i64], position: Position, size: usize) -> Window {
    let len = ids.len();
    let (start, index) = match position {
        Position::Start => (0, 0),
        Position::After { id, index } => (ids.partition_point(|&x| x <= id), index),
        Position::Before { id, index } => {
            let end = ids.partition_point(|&x| x < id);
            (end.saturating_sub(size), index)
        }
        Position::Page(page) => ((page - 1).saturating_mul(size).min(len), page - 1),
    };
    let end = match position {
        Position::Before { id, .. } if start > 0 => ids.partition_point(|&x| x < id),
        _ => start.saturating_add(size).min(len),
    };
    Window { start, end, index }
}

/// Where links should point: the origin the client used (its `Host`), else
/// the bound address, so links work behind port mappings too.
pub(crate) fn origin(headers: &HeaderMap, bound: SocketAddr) -> Url {
    let from_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.contains(['/', '@', '?', '#', '\\']))
        .and_then(|h| Url::parse(&format!("http://{h}")).ok());
    from_host.unwrap_or_else(|| {
        let mut addr = bound;
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        Url::parse(&format!("http://{addr}")).unwrap_or_else(|_| Url::parse("http://127.0.0.1").unwrap())
    })
}

/// Builds the page body. `params` are the caller's, so filters survive into
/// the links; only `cursor` and `page` are replaced.
pub(crate) fn page_body(
    link_base: Url,
    params: &[(String, String)],
    ids: &[i64],
    window: &Window,
    results: Vec<Value>,
) -> Value {
    let link = |position: Position| {
        let mut url = link_base.clone();
        {
            let mut query = url.query_pairs_mut();
            query.clear();
            for (key, value) in params.iter().filter(|(k, _)| k != "cursor" && k != "page") {
                query.append_pair(key, value);
            }
            query.append_pair("cursor", &encode(position));
        }
        Value::from(url.to_string())
    };
    let next = (window.end < ids.len() && window.end > window.start)
        .then(|| link(Position::After { id: ids[window.end - 1], index: window.index + 1 }));
    let previous = (window.start > 0 && window.start < ids.len())
        .then(|| link(Position::Before { id: ids[window.start], index: window.index.saturating_sub(1) }));
    json!({ "previous": previous, "results": results, "next": next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for position in [Position::After { id: 1050, index: 3 }, Position::Before { id: 7, index: 0 }] {
            assert_eq!(decode(&encode(position)), Some(position));
        }
        assert_eq!(decode("zz"), None);
        assert_eq!(decode(&hex::encode("a=x&n=1")), None);
    }

    #[test]
    fn windows_walk_forward_and_back() {
        let ids: Vec<i64> = (1..=10).collect();
        assert_eq!(window(&ids, Position::Start, 4), Window { start: 0, end: 4, index: 0 });
        let second = window(&ids, Position::After { id: 4, index: 1 }, 4);
        assert_eq!(second, Window { start: 4, end: 8, index: 1 });
        let back = window(&ids, Position::Before { id: 5, index: 0 }, 4);
        assert_eq!(back, Window { start: 0, end: 4, index: 0 });
        let short_back = window(&ids, Position::Before { id: 3, index: 0 }, 4);
        assert_eq!(short_back, Window { start: 0, end: 4, index: 0 });
        assert_eq!(window(&ids, Position::Page(3), 4), Window { start: 8, end: 10, index: 2 });
        assert_eq!(window(&ids, Position::Page(9), 4), Window { start: 10, end: 10, index: 8 });
    }
}
