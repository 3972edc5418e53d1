//! The frame of every console page: the stylesheet, the navigation, the
//! role, the logout form and the flash message of the last action; and the
//! login and error pages. Action forms are drawn only for the admin role,
//! so a read-only page holds no element of class `action`.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::{Role, auth::Session, csrf};
use crate::AppState;

/// The sections of the navigation: id, address, label.
const NAV: [(&str, &str, &str); 5] = [
    ("nav-overview", "/console", "Overview"),
    ("nav-jobs", "/console/jobs", "Jobs"),
    ("nav-deliveries", "/console/deliveries", "Deliveries"),
    ("nav-review", "/console/review", "Review"),
    ("nav-runs", "/console/runs", "Sync runs"),
];

fn head(title: &str) -> Markup {
    html! {
        (DOCTYPE)
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · drchrono-sync console" }
        link rel="stylesheet" href="/console/assets/console.css";
    }
}

/// A console page titled `title`, for `session`.
pub fn page(session: &Session, title: &str, body: Markup) -> Markup {
    html! {
        (head(title))
        body data-role=(session.role.name()) {
            header {
                nav {
                    @for (id, href, label) in NAV { a id=(id) href=(href) { (label) } }
                }
                span.who { "logged in as " span id="role" { (session.role.name()) } }
                form method="post" action="/console/logout" {
                    (csrf::field(session))
                    button id="logout" type="submit" { "Log out" }
                }
            }
            main {
                h1 { (title) }
                @if let Some(flash) = &session.flash { p id="flash" { (flash) } }
                (body)
            }
        }
    }
}

/// A form posting to `action` with the CSRF field, `fields` and a submit
/// button `button_id` of class `action {class}`; nothing for the read-only role.
pub fn action_form(
    session: &Session,
    action: &str,
    button_id: Option<&str>,
    class: &str,
    label: &str,
    fields: Markup,
) -> Markup {
    if session.role != Role::Admin {
        return html! {};
    }
    html! {
        form.inline method="post" action=(action) {
            (csrf::field(session))
            (fields)
            button id=[button_id] class={ "action " (class) } type="submit" { (label) }
        }
    }
}

pub fn login_page(state: &AppState, error: Option<&str>) -> Markup {
    let readonly = !state.settings.secrets(crate::config::secrets::Inbound::ConsoleReadonly).is_off();
    html! {
        (head("Log in"))
        body {
            main.login {
                h1 { "drchrono-sync console" }
                @if let Some(error) = error { p id="login-error" { (error) } }
                form id="login" method="post" action="/console/login" {
                    label for="token" {
                        "ADMIN_TOKEN" @if readonly { " or CONSOLE_READONLY_TOKEN" }
                    }
                    input id="token" name="token" type="password" autocomplete="current-password" required;
                    button id="login-submit" type="submit" { "Log in" }
                }
            }
        }
    }
}

/// An error page: what went wrong, what to do, and the request id to find its log line.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    let request_id = crate::request_id::current().unwrap_or_else(|| "-".into());
    html! {
        (head(status.canonical_reason().unwrap_or("Error")))
        body {
            main {
                h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                p id="error" { (message) }
                p { "Request id: " code id="request-id" { (request_id) } }
                p { a href="/console" { "Back to the console" } }
            }
        }
    }
}

/// `time` as `2026-12-04 18:47:20Z`, or `-`.
pub fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
}

/// A link to the next page of a list when this one was full: `path` with
/// the filters in `pairs` and `before` the last row shown.
pub fn next_link(path: &str, pairs: &[(&str, Option<&str>)], last: Option<String>, full: bool) -> Markup {
    let Some(last) = last.filter(|_| full) else { return html! {} };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        if let Some(value) = value {
            query.append_pair(key, value);
        }
    }
    query.append_pair("before", &last);
    html! { p { a id="next" href={ (path) "?" (query.finish()) } { "Older" } } }
}
