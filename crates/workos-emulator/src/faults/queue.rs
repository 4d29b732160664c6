//! The fault queue (FIFO per endpoint, one action consumed per request) and
//! the middleware that applies it in front of the routes. A faulted answer
//! never reaches the grant logic, so an injected `slow_down` or 500 leaves
//! the device code exactly as it was.

use std::collections::{HashMap, VecDeque};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Fault, FaultAction, FaultEndpoint};
use crate::EmulatorError;
use crate::error::ApiError;
use crate::state::AppState;

/// Queued faults kept at most, so the admin endpoint cannot grow memory.
pub(crate) const MAX_QUEUED: usize = 1_000;

/// Faults waiting for their requests.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    by_endpoint: HashMap<FaultEndpoint, VecDeque<Fault>>,
}

/// The queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueFull;

impl FaultQueue {
    /// Appends `fault` behind the faults already queued for its endpoint.
    pub(crate) fn push(&mut self, fault: Fault) -> Result<(), QueueFull> {
        if self.by_endpoint.values().map(VecDeque::len).sum::<usize>() >= MAX_QUEUED {
            return Err(QueueFull);
        }
        self.by_endpoint
            .entry(fault.endpoint)
            .or_default()
            .push_back(fault);
        Ok(())
    }

    /// The action for the next request to `endpoint`, if a fault is queued;
    /// uses up one of its `times`.
    pub(crate) fn take(&mut self, endpoint: FaultEndpoint) -> Option<FaultAction> {
        let queue = self.by_endpoint.get_mut(&endpoint)?;
        let front = queue.front_mut()?;
        let action = front.action;
        front.times = front.times.saturating_sub(1);
        if front.times == 0 {
            queue.pop_front();
        }
        Some(action)
    }

    /// Every queued fault, by endpoint, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<Fault> {
        let mut out: Vec<Fault> = self.by_endpoint.values().flatten().copied().collect();
        out.sort_by_key(|f| f.endpoint as u8);
        out
    }

    /// Drops every queued fault.
    pub(crate) fn clear(&mut self) {
        self.by_endpoint.clear();
    }

    /// Whether no fault is queued for any endpoint.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_endpoint.values().all(VecDeque::is_empty)
    }
}

impl AppState {
    /// Queues `fault` behind those already queued for its endpoint.
    pub fn inject(&self, fault: Fault) -> Result<(), EmulatorError> {
        let mut queue = self.lock_faults();
        queue
            .push(fault)
            .map_err(|QueueFull| EmulatorError::TooManyFaults)?;
        self.set_faults_queued(true);
        Ok(())
    }

    /// The faults still queued (with their remaining counts).
    pub fn faults(&self) -> Vec<Fault> {
        self.lock_faults().snapshot()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        let mut queue = self.lock_faults();
        queue.clear();
        self.set_faults_queued(false);
    }

    /// The action due for this request, if any. While nothing is queued (the
    /// usual case) this reads one atomic flag and takes no lock.
    fn take_fault(&self, endpoint: FaultEndpoint) -> Option<FaultAction> {
        if !self.faults_may_be_queued() {
            return None;
        }
        let mut queue = self.lock_faults();
        let action = queue.take(endpoint);
        self.set_faults_queued(!queue.is_empty());
        action
    }
}

/// Middleware: answers from the queue when a fault is due for this request's
/// endpoint, otherwise passes the request on untouched.
pub(crate) async fn apply(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(endpoint) = FaultEndpoint::of(request.method().as_str(), request.uri().path()) else {
        return next.run(request).await;
    };
    let Some(action) = state.take_fault(endpoint) else {
        return next.run(request).await;
    };
    tracing::info!(endpoint = ?endpoint, action = ?action, "injecting a fault");
    let error = match action {
        FaultAction::Delay(d) => {
            tokio::time::sleep(d).await;
            return next.run(request).await;
        }
        FaultAction::SlowDown => ApiError::SlowDown,
        FaultAction::Status {
            status,
            retry_after,
        } => ApiError::Injected {
            status: axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
            retry_after,
        },
    };
    let mut response = error.into_response();
    // Faulted token answers must not be cached either (RFC 6749 §5.1).
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order_one_request_at_a_time() {
        let mut q = FaultQueue::default();
        q.push("authenticate:500x2".parse().unwrap()).unwrap();
        q.push("authenticate:slow_down".parse().unwrap()).unwrap();
        q.push("authorize:503".parse().unwrap()).unwrap();
        let status = |s| FaultAction::Status {
            status: s,
            retry_after: None,
        };
        assert_eq!(q.take(FaultEndpoint::Authenticate), Some(status(500)));
        assert_eq!(q.snapshot()[0].times, 1);
        assert_eq!(q.take(FaultEndpoint::Authenticate), Some(status(500)));
        assert_eq!(
            q.take(FaultEndpoint::Authenticate),
            Some(FaultAction::SlowDown)
        );
        assert_eq!(q.take(FaultEndpoint::Authenticate), None);
        assert_eq!(q.take(FaultEndpoint::Jwks), None);
        assert_eq!(q.snapshot().len(), 1);
        q.clear();
        assert_eq!(q.take(FaultEndpoint::Authorize), None);
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut q = FaultQueue::default();
        let f: Fault = "jwks:500".parse().unwrap();
        for _ in 0..MAX_QUEUED {
            q.push(f).unwrap();
        }
        assert_eq!(q.push(f), Err(QueueFull));
    }
}
