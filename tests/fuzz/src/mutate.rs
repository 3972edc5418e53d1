//! Mutations of a real-shape JSON body. Tree mutations put a marker where a
//! hostile token goes, so tokens no `serde_json::Value` can hold (`1e999`,
//! `"\ud800"`, bytes that are not UTF-8, duplicate keys) reach the wire
//! exactly; byte mutations then break the text itself.

use serde_json::{Map, Value};

use crate::{rng::Rng, values};

/// A body and the names of the mutations that made it, for a failure report.
#[derive(Debug, Clone)]
pub struct Mutated {
    pub body: Vec<u8>,
    pub mutations: Vec<&'static str>,
}

/// Where a node sits in the tree.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Tree mutations under construction: the tree and the raw tokens its markers stand for.
struct Draft {
    tree: Value,
    raws: Vec<Vec<u8>>,
    names: Vec<&'static str>,
}

const MARK: char = '\u{E000}';

impl Draft {
    fn marker(&mut self, raw: Vec<u8>) -> Value {
        self.raws.push(raw);
        Value::String(format!("{MARK}raw{}{MARK}", self.raws.len() - 1))
    }

    /// The tree as bytes, each marker replaced by its token; later markers
    /// first, since a later token may contain an earlier marker.
    fn finish(self) -> Vec<u8> {
        let mut out = serde_json::to_vec(&self.tree).unwrap_or_default();
        for (i, raw) in self.raws.iter().enumerate().rev() {
            let needle = serde_json::to_vec(&format!("{MARK}raw{i}{MARK}")).unwrap_or_default();
            if let Some(at) = find(&out, &needle) {
                out.splice(at..at + needle.len(), raw.iter().copied());
            }
        }
        out
    }
}

/// Applies one to three mutations to `seed` and returns a body of at most `max_body` bytes.
pub fn mutate(rng: &mut Rng, seed: &Value, max_body: usize) -> Mutated {
    let mut draft = Draft { tree: seed.clone(), raws: Vec::new(), names: Vec::new() };
    let tree_mutations = if rng.chance(15) { 0 } else { 1 + rng.below(3) };
    for _ in 0..tree_mutations {
        mutate_tree(rng, &mut draft, max_body);
    }
    let mut names = std::mem::take(&mut draft.names);
    let mut body = draft.finish();
    if tree_mutations == 0 || rng.chance(20) {
        names.push(mutate_bytes(rng, &mut body));
    }
    if body.len() > max_body {
        body.truncate(max_body);
        names.push("capped_at_body_limit");
    }
    Mutated { body, mutations: names }
}

fn mutate_tree(rng: &mut Rng, d: &mut Draft, max_body: usize) {
    let paths = paths(&d.tree);
    if paths.is_empty() {
        let raw = values::wrong_type(rng);
        d.tree = d.marker(raw);
        d.names.push("wrong_type_root");
        return;
    }
    let path = rng.pick(&paths).clone();
    let (name, raw): (&'static str, Vec<u8>) = match rng.below(16) {
        0 | 1 => ("wrong_type", values::wrong_type(rng)),
        2 | 3 => ("odd_number", values::number(rng)),
        4 | 5 => ("bad_date", values::date(rng)),
        6 => {
            let len = long_len(rng, max_body);
            ("long_string", values::long_string(rng, len))
        }
        7 => ("control_chars", values::control_chars(rng)),
        8 => ("escapes_and_surrogates", values::escape(rng)),
        9 => ("invalid_utf8", values::invalid_utf8(rng)),
        10 => {
            let depth = *rng.pick(&[32, 127, 128, 129, 300, 5000]);
            ("deep_nesting", values::nested(rng, depth))
        }
        11 => ("missing_id_or_bad_id", values::id(rng)),
        12 => ("awkward_text", values::awkward(rng)),
        13 => return remove(d, &path),
        14 => return add_key(rng, d, &path),
        _ => return restructure(rng, d, &path, max_body),
    };
    let marker = d.marker(raw);
    if let Some(node) = node_mut(&mut d.tree, &path) {
        *node = marker;
    }
    d.names.push(name);
}

fn long_len(rng: &mut Rng, max_body: usize) -> usize {
    let fits: Vec<usize> =
        [300, 1_100, 5_100, 20_000, 70_000, 300_000].into_iter().filter(|n| n * 4 < max_body).collect();
    if fits.is_empty() { 100 } else { *rng.pick(&fits) }
}

fn remove(d: &mut Draft, path: &[Step]) {
    let (last, parent) = path.split_last().map(|(l, p)| (l.clone(), p.to_vec())).unwrap_or((Step::Index(0), vec![]));
    match (node_mut(&mut d.tree, &parent), last) {
        (Some(Value::Object(map)), Step::Key(k)) => {
            map.remove(&k);
        }
        (Some(Value::Array(items)), Step::Index(i)) if i < items.len() => {
            items.remove(i);
        }
        _ => {}
    }
    d.names.push("missing_field");
}

/// An unknown key, a duplicate of a known key, or a key that is itself hostile.
fn add_key(rng: &mut Rng, d: &mut Draft, path: &[Step]) {
    let parent = &path[..path.len() - 1];
    let Some(Value::Object(map)) = node_mut(&mut d.tree, parent).map(|n| n.clone()) else {
        d.names.push("missing_field");
        return;
    };
    let value = d.marker(values::wrong_type(rng));
    if let (true, Some(existing)) = (rng.chance(50), map.keys().next().cloned()) {
        // A duplicate key cannot live in a Map: the object becomes raw text.
        let rest = serde_json::to_vec(&Value::Object(map)).unwrap_or_default();
        let dup =
            [b"{".as_slice(), &serde_json::to_vec(&existing).unwrap_or_default(), b": ", &values::wrong_type(rng)]
                .concat();
        let raw = if rest.len() > 2 {
            [dup, b", ".to_vec(), rest[1..].to_vec()].concat()
        } else {
            [dup, b"}".to_vec()].concat()
        };
        let marker = d.marker(raw);
        if let Some(node) = node_mut(&mut d.tree, parent) {
            *node = marker;
        }
        d.names.push("duplicate_key");
        return;
    }
    let key_raw = match rng.below(4) {
        0 => values::escape(rng),
        1 => values::invalid_utf8(rng),
        2 => values::long_string(rng, 2_000),
        _ => values::awkward(rng),
    };
    let Value::String(key) = d.marker(key_raw) else { return };
    if let Some(Value::Object(live)) = node_mut(&mut d.tree, parent) {
        live.insert(key, value);
    }
    d.names.push("hostile_key");
}

/// Arrays for objects and objects for arrays, nulls, empty containers, huge arrays.
fn restructure(rng: &mut Rng, d: &mut Draft, path: &[Step], max_body: usize) {
    let Some(node) = node_mut(&mut d.tree, path) else { return };
    let name = match rng.below(4) {
        0 => {
            *node = Value::Array(vec![node.take()]);
            "array_for_value"
        }
        1 => {
            *node = Value::Object(Map::from_iter([("value".to_string(), node.take())]));
            "object_for_value"
        }
        2 => {
            *node = Value::Null;
            "null_value"
        }
        _ => {
            let n = if max_body > 200_000 { 20_000 } else { 2_000 };
            *node = Value::Array(vec![Value::from(0); n]);
            "huge_array"
        }
    };
    d.names.push(name);
}

/// A mutation of the text itself; returns its name.
fn mutate_bytes(rng: &mut Rng, body: &mut Vec<u8>) -> &'static str {
    match rng.below(9) {
        0 => {
            let at = rng.below(body.len().max(1));
            body.truncate(at);
            "truncated"
        }
        1 => {
            body.clear();
            "empty_body"
        }
        2 => {
            body.splice(0..0, [0xEF, 0xBB, 0xBF]);
            "byte_order_mark"
        }
        3 => {
            *body = rng.pick(&["null", "42", "\"text\"", "true", "[]", "[{}]", "{}", "-1e999"]).as_bytes().to_vec();
            "top_level_not_an_object"
        }
        4 => {
            *body = [b"[".as_slice(), body, b"]"].concat();
            "array_for_body"
        }
        5 => {
            const TAILS: &[&[u8]] = &[b"}", b",{}", b"\x00", b"garbage", b"\n{}"];
            let tail: &[u8] = rng.pick::<&[u8]>(TAILS);
            body.extend_from_slice(tail);
            "trailing_garbage"
        }
        6 => {
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(body.len().max(1));
                if let Some(b) = body.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            "byte_flip"
        }
        7 => {
            *body = (0..rng.below(256)).map(|_| rng.byte()).collect();
            "random_bytes"
        }
        _ => {
            body.splice(0..0, std::iter::repeat_n(b' ', 10_000));
            "leading_whitespace"
        }
    }
}

/// Every node below the root, parents before children.
fn paths(tree: &Value) -> Vec<Vec<Step>> {
    fn walk(node: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        let children: Vec<(Step, &Value)> = match node {
            Value::Object(map) => map.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
            Value::Array(items) => items.iter().enumerate().map(|(i, v)| (Step::Index(i), v)).collect(),
            _ => return,
        };
        for (step, child) in children {
            here.push(step);
            out.push(here.clone());
            walk(child, here, out);
            here.pop();
        }
    }
    let mut out = Vec::new();
    walk(tree, &mut Vec::new(), &mut out);
    out
}

fn node_mut<'a>(tree: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(tree, |node, step| match (node, step) {
        (Value::Object(map), Step::Key(k)) => map.get_mut(k),
        (Value::Array(items), Step::Index(i)) => items.get_mut(*i),
        _ => None,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_case_gives_the_same_body_and_raw_tokens_reach_the_wire() {
        let seed = json!({"object": {"id": 1001, "first_name": "A", "dates": ["2025-01-01"]}, "event": "X"});
        let run = |i| mutate(&mut Rng::for_case(9, i), &seed, 64 * 1024);
        for i in 0..500 {
            let (a, b) = (run(i), run(i));
            assert_eq!((a.body.clone(), a.mutations.clone()), (b.body, b.mutations));
            assert!(!find(&a.body, "\u{E000}".as_bytes()).is_some_and(|_| true), "marker left in case {i}");
            assert!(a.body.len() <= 64 * 1024);
        }
    }
}
