//! The end-of-scan summary on stderr. Cron and pipes (stderr not a terminal) get the one
//! line they always got; a person at a terminal also gets what the HTML header says: hosts by
//! verdict, the causes ranked by hosts hit with their fix, the certificate horizon, the changes
//! since the baseline, what `--open-only` left out, and where the reports are. Colour only on
//! a terminal, and never with `NO_COLOR` set (<https://no-color.org>).
//!
//! The numbers come from the same tally as the HTML page (`html::summary::Tally`, filled by
//! the writer), so the terminal and the page always agree.

use std::io::IsTerminal;

use crate::engine::Outcome;
use crate::model::{Change, Severity};

/// Causes listed (failures, then warnings): a short table; the HTML has them all.
const MAX_FAIL_CAUSES: usize = 8;
const MAX_WARN_CAUSES: usize = 5;

/// Print the summary: the rich form on a terminal, else the one line.
pub fn print(out: &Outcome, reports: &[String]) {
    let tty = std::io::stderr().is_terminal();
    let text = if tty {
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        render(out, reports, colour, width())
    } else {
        format!("{}\n", one_line(out))
    };
    eprint!("{text}");
}

/// Terminal width from `COLUMNS` (shells export it to children only sometimes), else 100.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(60, 240)
}

/// Today's one-line summary (cron, pipes): unchanged so that scripts reading it keep working;
/// with `--open-only`, what it left out follows.
pub fn one_line(out: &Outcome) -> String {
    let c = &out.closed;
    let left_out = if c.left_out && c.total() > 0 {
        format!(
            "; --open-only left out {}: {} refused, {} filtered, {} down{}",
            c.total(),
            c.refused,
            c.filtered,
            c.down,
            if c.other > 0 {
                format!(", {} other", c.other)
            } else {
                String::new()
            }
        )
    } else {
        String::new()
    };
    let verdicts: Vec<String> = out
        .verdicts
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect();
    format!(
        "rdpsweep: {} targets, {} rows in {:.1}s{}: {}{left_out}",
        out.targets,
        out.rows,
        out.duration.as_secs_f64(),
        if out.interrupted {
            " (interrupted)"
        } else {
            ""
        },
        if verdicts.is_empty() {
            "nothing scanned".to_string()
        } else {
            verdicts.join(", ")
        }
    )
}

struct Paint {
    on: bool,
}

impl Paint {
    fn sev(&self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Fail => "31",
            Severity::Warn => "33",
            Severity::Info => "36",
            Severity::Ok => "32",
        };
        self.wrap(code, text)
    }

    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Fail => "✖",
        Severity::Warn => "⚠",
        Severity::Info => "ℹ",
        Severity::Ok => "✓",
    }
}

/// Plural suffix.
fn s(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The rich summary as text (every line ends in a newline).
pub fn render(out: &Outcome, reports: &[String], colour: bool, width: usize) -> String {
    let p = Paint { on: colour };
    let t = &out.tally;
    let mut o = String::new();
    let mut line = |l: String| {
        o.push_str(&l);
        o.push('\n');
    };
    line(String::new());
    line(one_line(out));
    let c = t.headline.counts();
    let notes = if c.healthy_with_notes > 0 {
        format!(" ({} with notes)", c.healthy_with_notes)
    } else {
        String::new()
    };
    line(format!(
        "  {} {} — {} · {} · {}",
        p.bold("Hosts:"),
        c.hosts,
        p.sev(
            Severity::Fail,
            &format!("{} {} fail", icon(Severity::Fail), c.fail)
        ),
        p.sev(
            Severity::Warn,
            &format!("{} {} warn", icon(Severity::Warn), c.warn)
        ),
        p.sev(
            Severity::Ok,
            &format!("{} {} healthy{notes}", icon(Severity::Ok), c.healthy)
        ),
    ));

    let causes = t.ranked_causes();
    line(String::new());
    if causes.is_empty() {
        line(format!(
            "  {} No host has a finding that makes mstsc fail or warns.",
            p.sev(Severity::Ok, icon(Severity::Ok))
        ));
    } else {
        line(format!(
            "  {}",
            p.bold("Why connections fail (0x904 / 0x7), by hosts hit")
        ));
        let code_w = causes
            .iter()
            .map(|(code, _)| code.as_str().chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        line(format!(
            "  {}",
            p.dim(&format!("  {:<code_w$}  {:>5}  FIX", "CAUSE", "HOSTS"))
        ));
        // Fix text wraps under its own column.
        let indent = 2 + 2 + code_w + 2 + 5 + 2;
        let fix_w = width.saturating_sub(indent).max(30);
        for (sev, max) in [
            (Severity::Fail, MAX_FAIL_CAUSES),
            (Severity::Warn, MAX_WARN_CAUSES),
        ] {
            let list: Vec<_> = causes.iter().filter(|(_, c)| c.severity == sev).collect();
            if sev == Severity::Warn && !list.is_empty() {
                line(format!(
                    "  {}",
                    p.dim("Warnings (connections work; users see prompts, or it will break):")
                ));
            }
            for (code, cause) in list.iter().take(max) {
                let mut fix = wrap(code.remedy(), fix_w).into_iter();
                line(format!(
                    "  {} {}  {:>5}  {}",
                    p.sev(sev, icon(sev)),
                    // Padded before colouring: escape codes take no columns.
                    p.sev(sev, &format!("{:<code_w$}", code.as_str())),
                    cause.hosts,
                    fix.next().unwrap_or_default()
                ));
                for more in fix {
                    line(format!("{:indent$}{more}", ""));
                }
            }
            if list.len() > max {
                let more = (list.len() - max) as u64;
                line(format!(
                    "    … and {more} more {} cause{} (see the HTML report)",
                    sev.as_str(),
                    s(more)
                ));
            }
        }
    }

    line(String::new());
    let (expired, within) = t.horizon();
    let horizon: Vec<String> = within
        .iter()
        .map(|(d, n)| format!("{n} within {d} d"))
        .collect();
    let cert_sev = if expired > 0 {
        Severity::Fail
    } else if within.first().is_some_and(|(_, n)| *n > 0) {
        Severity::Warn
    } else {
        Severity::Ok
    };
    line(format!(
        "  {} {}",
        p.bold("Certificates:"),
        p.sev(
            cert_sev,
            &format!("{expired} expired · {}", horizon.join(" · "))
        )
    ));
    if t.client_rows > 0 {
        let parts: Vec<String> = crate::clients::PROFILES
            .iter()
            .zip(&t.client_fails)
            .map(|(prof, n)| {
                let sev = if *n > 0 { Severity::Fail } else { Severity::Ok };
                p.sev(sev, &format!("{} {n}", prof.id))
            })
            .collect();
        line(format!(
            "  {} {} (of {} hosts with TLS facts; docs/clients.md)",
            p.bold("Clients that cannot connect:"),
            parts.join(" · "),
            t.client_rows
        ));
    }
    if !t.changes.is_empty() {
        let n = |c: Change| t.changes.get(&c).copied().unwrap_or(0);
        line(format!(
            "  {} {} · {} · {} changed · {} unchanged · {} gone",
            p.bold("Since the baseline:"),
            p.sev(Severity::Fail, &format!("{} new", n(Change::New))),
            p.sev(Severity::Ok, &format!("{} fixed", n(Change::Fixed))),
            n(Change::Changed),
            n(Change::Unchanged),
            n(Change::Gone)
        ));
    }
    let closed = &out.closed;
    if closed.total() > 0 {
        line(format!(
            "  {} {} refused · {} filtered · {} down{}",
            p.bold("Port not open:"),
            closed.refused,
            closed.filtered,
            closed.down,
            if closed.other > 0 {
                format!(" · {} unresolved or other", closed.other)
            } else {
                String::new()
            }
        ));
    }
    if !reports.is_empty() {
        line(format!("  {}", p.bold("Reports:")));
        for r in reports {
            line(format!("    {r}"));
        }
    }
    o
}

/// Words into lines of at most `w` characters (a longer word gets a line of its own).
fn wrap(text: &str, w: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > w {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_every_word_within_the_width() {
        let text = "delete the expired certificate in certlm.msc (Remote Desktop store) and restart TermService";
        let lines = wrap(text, 30);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| l.chars().count() <= 30));
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("", 10), Vec::<String>::new());
    }

    #[test]
    fn colour_only_when_asked() {
        let out = Outcome::default();
        let plain = render(&out, &["/tmp/r.html".into()], false, 100);
        assert!(!plain.contains('\x1b'));
        assert!(plain.contains("Hosts: 0 — "), "{plain}");
        assert!(plain.contains("    /tmp/r.html\n"));
        let col = render(&out, &[], true, 100);
        assert!(col.contains("\x1b[32m"));
        assert!(!col.contains("Reports:"));
    }

    #[test]
    fn clients_line_counts_hosts_each_profile_fails() {
        use crate::model::{ClientVerdict, Connects, DnsOutcome, ProbeRecord, TargetInfo};
        let verdict = |profile: &str, connects| ClientVerdict {
            profile: profile.into(),
            connects,
            reason: String::new(),
        };
        let mut out = Outcome::default();
        let plain = render(&out, &[], false, 100);
        assert!(!plain.contains("Clients that cannot connect"), "{plain}");
        for (host, win7) in [
            ("a", Connects::No),
            ("b", Connects::No),
            ("c", Connects::Yes),
        ] {
            let rec = ProbeRecord::new(
                TargetInfo {
                    host: host.into(),
                    port: 3389,
                    ..Default::default()
                },
                DnsOutcome::status(crate::model::DnsStatus::Literal),
                "2026-12-03T00:00:00Z".into(),
            );
            let mut r = crate::diagnose::report(rec, 0, &Default::default());
            r.clients = vec![
                verdict("win11", Connects::Yes),
                verdict("win7", win7),
                verdict("macos", Connects::Unknown),
            ];
            out.tally.add_row(&r);
        }
        let plain = render(&out, &[], false, 100);
        assert!(
            plain.contains("Clients that cannot connect: win11 0 · win10 0 · win7 2 · macos 0"),
            "{plain}"
        );
        assert!(plain.contains("(of 3 hosts with TLS facts"), "{plain}");
    }
}
