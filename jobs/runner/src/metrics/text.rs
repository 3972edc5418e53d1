//! The Prometheus text exposition format (version 0.0.4), written by hand:
//! a few counters, gauges and one histogram do not justify a metrics crate.

use std::fmt::Write as _;

pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric family: its name, what it means, and its type.
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
}

/// A page of exposition text, family by family.
#[derive(Default)]
pub struct Text(String);

impl Text {
    /// Starts `family`: its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, family: &Family) {
        let kind = match family.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.0, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(self.0, "# TYPE {} {kind}", family.name);
    }

    /// One sample line: `name{label="value",...} value`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", number(value));
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_escape_labels_and_print_whole_numbers_plainly() {
        let mut t = Text::default();
        t.family(&Family { name: "x_total", help: "Things.", kind: Kind::Counter });
        t.sample("x_total", &[("queue", "a\"b"), ("status", "ok")], 3.0);
        t.sample("x_seconds", &[], 0.25);
        t.sample("x_bucket", &[("le", "+Inf")], f64::INFINITY);
        assert_eq!(
            t.into_string(),
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{queue=\"a\\\"b\",status=\"ok\"} 3\nx_seconds 0.25\nx_bucket{le=\"+Inf\"} +Inf\n"
        );
    }
}
