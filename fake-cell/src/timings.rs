//! Request timings, as Marqo's `RequestMetricsStore` keeps them for `?telemetry=true`: named
//! timers (`start`/`stop`, [`time`] around a closure, a [`Guard`] until it drops) add their
//! milliseconds to the request's `timesMs`, in the order each name was first recorded; a name
//! recorded again holds a list. Starting a running timer or stopping a stopped one does nothing,
//! as in Marqo, so a phase may be closed by whichever code path gets there first.
//!
//! Outside a request that asked for telemetry ([`collect`]) every call is a no-op costing one
//! task-local lookup, so the engine times its phases unconditionally.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;
use std::time::Instant;

use serde_json::{Map, Value, json};

tokio::task_local! {
    static TIMES: RefCell<Times>;
}

type Key = Cow<'static, str>;

/// One request's recorded and running timers.
#[derive(Default)]
pub struct Times {
    times: Vec<(Key, Vec<f64>)>,
    running: Vec<(Key, Instant)>,
}

impl Times {
    fn add(&mut self, k: Key, ms: f64) {
        match self.times.iter_mut().find(|(name, _)| *name == k) {
            Some((_, all)) => all.push(ms),
            None => self.times.push((k, vec![ms])),
        }
    }

    /// `timesMs` as Marqo writes it: one number per name, or a list for a name timed again.
    pub fn times_ms(&self) -> Map<String, Value> {
        self.times
            .iter()
            .map(|(k, all)| {
                let v = match all.as_slice() {
                    [one] => json!(one),
                    many => json!(many),
                };
                (k.to_string(), v)
            })
            .collect()
    }
}

/// Run `f` recording its timings, and hand them back with its output.
pub async fn collect<F: Future>(f: F) -> (F::Output, Times) {
    let cell = RefCell::new(Times::default());
    TIMES
        .scope(cell, async move {
            let out = f.await;
            let times = TIMES.with(|s| std::mem::take(&mut *s.borrow_mut()));
            (out, times)
        })
        .await
}

fn with(f: impl FnOnce(&mut Times)) {
    let _ = TIMES.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            f(&mut s)
        }
    });
}

/// Whether this request records timings.
pub fn on() -> bool {
    TIMES.try_with(|_| ()).is_ok()
}

pub fn start(k: &'static str) {
    with(|s| {
        if !s.running.iter().any(|(name, _)| name == k) {
            s.running.push((Cow::Borrowed(k), Instant::now()));
        }
    });
}

pub fn stop(k: &'static str) {
    with(|s| {
        if let Some(i) = s.running.iter().position(|(name, _)| name == k) {
            let (name, t) = s.running.swap_remove(i);
            s.add(name, ms_since(t));
        }
    });
}

/// Add a duration measured elsewhere.
pub fn add(k: &'static str, ms: f64) {
    with(|s| s.add(Cow::Borrowed(k), ms));
}

/// `f`, timed under `k` (like Marqo's `with ….time(k)`).
pub fn time<R>(k: &'static str, f: impl FnOnce() -> R) -> R {
    if !on() {
        return f();
    }
    let t = Instant::now();
    let out = f();
    with(|s| s.add(Cow::Borrowed(k), ms_since(t)));
    out
}

/// Times until dropped, however the scope is left (an error return too, like Marqo's
/// `with` block around a route's handler); the name is built only when telemetry is on.
pub struct Guard(Option<(Key, Instant)>);

impl Guard {
    pub fn new(k: impl FnOnce() -> String) -> Guard {
        Guard(on().then(|| (Cow::Owned(k()), Instant::now())))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some((k, t)) = self.0.take() {
            with(|s| s.add(k, ms_since(t)));
        }
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn timers_record_in_first_use_order_and_repeats_become_lists() {
        let ((), times) = collect(async {
            let _route = Guard::new(|| "route".to_string());
            start("outer");
            time("inner", || ());
            start("outer"); // already running: no effect
            stop("outer");
            stop("outer"); // already stopped: no effect
            add("inner", 2.5);
            stop("never started");
        })
        .await;
        let times = times.times_ms();
        let keys: Vec<&str> = times.keys().map(String::as_str).collect();
        assert_eq!(keys, ["inner", "outer", "route"]);
        assert!(times["outer"].is_f64(), "{times:?}");
        let inner = times["inner"].as_array().expect("timed twice: a list");
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[1], json!(2.5));
    }

    #[test]
    fn outside_a_collecting_request_nothing_is_recorded() {
        assert!(!on());
        start("a");
        stop("a");
        assert_eq!(time("b", || 7), 7);
        let _g = Guard::new(|| unreachable!("the name is not built when off"));
    }
}
