//! The wasm layer's suite, run in Node (`tests/node.rs`) and in headless
//! Chromium (`tests/web.rs`): real `fetch`, real timers and real sockets to
//! the mock server that `make test-wasm` starts at `PULSE_MOCK_API`.

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Object, Reflect};
use pulse_jobs::bindings::{get_job, wait_for_job};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::AbortController;

/// Set by `make test-wasm`, which starts the mock there.
const API: &str = match option_env!("PULSE_MOCK_API") {
    Some(url) => url,
    None => "http://127.0.0.1:4610",
};
const KEY: &str = "wasm-suite-key";

/// A job id for `scenario`, unique to this test run.
fn job(scenario: &str) -> String {
    format!("{scenario}-{}", (js_sys::Math::random() * 1e12) as u64)
}

fn get(value: &JsValue, field: &str) -> JsValue {
    Reflect::get(value, &field.into()).unwrap_throw()
}

/// Test defaults (fast polling, no jitter) plus `extra`.
fn options(extra: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    let defaults = [
        ("baseUrl", JsValue::from(API)),
        ("apiKey", KEY.into()),
        ("initialDelayMs", 10.into()),
        ("jitter", 0.into()),
    ];
    for (name, value) in defaults.iter().chain(extra) {
        Reflect::set(&o, &(*name).into(), value).unwrap_throw();
    }
    o.into()
}

async fn wait(scenario_job: &str, extra: &[(&str, JsValue)]) -> Result<JsValue, JsValue> {
    wait_for_job(scenario_job.into(), options(extra)).await
}

fn code(error: &JsValue) -> String {
    get(error, "code").as_string().unwrap_or_default()
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// The mock's record of every request for `job_id`, OPTIONS preflights left out.
async fn requests(job_id: &str) -> Vec<JsValue> {
    let fetch: Function = get(&js_sys::global(), "fetch").unchecked_into();
    let url = format!("{API}/__mock/requests?job={job_id}");
    let response = JsFuture::from(js_sys::Promise::from(
        fetch.call1(&JsValue::NULL, &url.into()).unwrap_throw(),
    ))
    .await
    .unwrap_throw();
    let json: Function = get(&response, "json").unchecked_into();
    let body = JsFuture::from(js_sys::Promise::from(json.call0(&response).unwrap_throw()))
        .await
        .unwrap_throw();
    Array::from(&body)
        .iter()
        .filter(|r| get(r, "method").as_string().as_deref() != Some("OPTIONS"))
        .collect()
}

fn aborts_after(ms: u32) -> (AbortController, web_sys::AbortSignal) {
    let controller = AbortController::new().unwrap_throw();
    let signal = controller.signal();
    let later = controller.clone();
    Timeout::new(ms, move || later.abort_with_reason(&"stop-reason".into())).forget();
    (controller, signal)
}

async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

#[wasm_bindgen_test]
async fn completes_after_polling() {
    let id = job("steps_2");
    let done = wait(&id, &[]).await.unwrap_throw();
    assert_eq!(
        get(&done, "status").as_string().as_deref(),
        Some("completed")
    );
    assert!(get(&get(&done, "result"), "markdown").is_string());
    let polls = requests(&id).await;
    assert_eq!(polls.len(), 3);
    let key = get(&get(&polls[0], "headers"), "x-api-key");
    assert_eq!(key.as_string().as_deref(), Some(KEY));
}

#[wasm_bindgen_test]
async fn retry_after_stretches_the_timer() {
    let id = job("retryok_1");
    let delays = Rc::new(RefCell::new(Vec::new()));
    let seen = delays.clone();
    let on_progress = Closure::<dyn Fn(JsValue, JsValue)>::new(move |_job, info: JsValue| {
        seen.borrow_mut().push(get(&info, "nextDelayMs").as_f64());
    });
    let started = now();
    wait(&id, &[("onProgress", on_progress.as_ref().clone())])
        .await
        .unwrap_throw();
    assert!(now() - started >= 1000.0, "slept at least Retry-After: 1");
    assert_eq!(*delays.borrow(), vec![Some(1000.0), None]);
}

#[wasm_bindgen_test]
async fn abort_during_a_sleep_rejects_at_once() {
    let id = job("steps_50");
    let (_controller, signal) = aborts_after(100);
    let started = now();
    let error = wait(
        &id,
        &[("initialDelayMs", 60_000.into()), ("signal", signal.into())],
    )
    .await
    .unwrap_err();
    assert_eq!(code(&error), "ABORTED");
    assert_eq!(
        get(&error, "cause").as_string().as_deref(),
        Some("stop-reason")
    );
    assert!(now() - started < 2000.0);
    assert_eq!(requests(&id).await.len(), 1);
}

#[wasm_bindgen_test]
async fn abort_cancels_the_request_in_flight() {
    let id = job("hang");
    let (_controller, signal) = aborts_after(150);
    let error = wait(&id, &[("signal", signal.into())]).await.unwrap_err();
    assert_eq!(code(&error), "ABORTED");
    sleep(200).await;
    let polls = requests(&id).await;
    assert_eq!(polls.len(), 1);
    assert_eq!(get(&polls[0], "closedEarly"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn an_already_aborted_signal_sends_nothing() {
    let id = job("ok");
    let controller = AbortController::new().unwrap_throw();
    controller.abort();
    let error = get_job(
        id.as_str().into(),
        options(&[("signal", controller.signal().into())]),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&error), "ABORTED");
    assert!(requests(&id).await.is_empty());
}

#[wasm_bindgen_test]
async fn a_stalled_poll_times_out_and_is_retried() {
    let id = job("stall_1");
    let done = wait(&id, &[("requestTimeoutMs", 300.into())])
        .await
        .unwrap_throw();
    assert_eq!(
        get(&done, "status").as_string().as_deref(),
        Some("completed")
    );
    assert_eq!(requests(&id).await.len(), 2);
}

#[wasm_bindgen_test]
async fn the_deadline_ends_the_wait() {
    let id = job("steps_100");
    let started = now();
    let error = wait(
        &id,
        &[("timeoutMs", 250.into()), ("initialDelayMs", 100.into())],
    )
    .await
    .unwrap_err();
    assert_eq!(code(&error), "TIMEOUT");
    assert_eq!(get(&error, "retryable"), JsValue::TRUE);
    assert!(now() - started < 1500.0);
}

#[wasm_bindgen_test]
async fn a_large_result_streams_from_storage_without_the_key() {
    let id = job("large_3000000");
    let progress = Rc::new(RefCell::new(Vec::new()));
    let seen = progress.clone();
    let on_download = Closure::<dyn Fn(JsValue)>::new(move |p: JsValue| {
        seen.borrow_mut()
            .push((get(&p, "loaded").as_f64(), get(&p, "total").as_f64()));
    });
    let done = wait(&id, &[("onDownloadProgress", on_download.as_ref().clone())])
        .await
        .unwrap_throw();
    assert!(get(&get(&done, "result"), "markdown").is_string());
    assert_eq!(
        progress.borrow().last().copied(),
        Some((Some(3e6), Some(3e6)))
    );
    let records = requests(&id).await;
    let storage: Vec<&JsValue> = records
        .iter()
        .filter(|r| get(r, "side").as_string().as_deref() == Some("storage"))
        .collect();
    assert_eq!(storage.len(), 1);
    assert!(get(&get(storage[0], "headers"), "x-api-key").is_undefined());
}

#[wasm_bindgen_test]
async fn bad_options_are_rejected_before_any_request() {
    let id = job("ok");
    let error = wait(&id, &[("jitter", 2.into())]).await.unwrap_err();
    assert_eq!(code(&error), "INVALID_ARGUMENT");
    assert!(get(&error, "message")
        .as_string()
        .unwrap_throw()
        .contains("jitter"));
    assert!(requests(&id).await.is_empty());
}

/// The package's allocator (`src/platform/memory.rs`) serves every
/// allocation of this suite too; here it is pushed through each size class,
/// whole pages, reuse after free, and growth by `realloc`.
#[wasm_bindgen_test]
fn the_allocator_hands_out_aligned_disjoint_blocks() {
    let sizes = [
        1, 7, 8, 9, 24, 100, 1000, 4096, 32_767, 32_768, 32_769, 70_000, 200_000,
    ];
    let fill = |round: usize| -> Vec<Vec<u8>> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| vec![(i * 7 + round) as u8; size])
            .collect()
    };
    let check = |blocks: &[Vec<u8>], round: usize| {
        for (i, block) in blocks.iter().enumerate() {
            assert!(
                block.iter().all(|&b| b == (i * 7 + round) as u8),
                "block {i} was overwritten"
            );
        }
    };
    let first = fill(0);
    let mut second = fill(1);
    check(&first, 0);
    drop(first);
    let third = fill(2);
    check(&second, 1);
    check(&third, 2);
    // Alignment: each type's own, however small the block.
    let wide: Vec<Box<u128>> = (0..100).map(|n| Box::new(n as u128)).collect();
    assert!(wide
        .iter()
        .all(|b| (&**b as *const u128 as usize) % std::mem::align_of::<u128>() == 0));
    // Growth by realloc, through every class and into whole pages.
    let mut grown = Vec::new();
    for n in 0..300_000u32 {
        grown.push(n as u8);
    }
    assert!(grown.iter().enumerate().all(|(n, &b)| b == n as u8));
    second.clear();
    check(&third, 2);
}

/// The allocator asks the engine for memory in large steps: growing a page
/// at a time made 10,000 waits in Node six times slower to start.
#[wasm_bindgen_test]
fn the_allocator_grows_memory_in_large_steps() {
    let pages = || core::arch::wasm32::memory_size(0);
    let mut grows = 0;
    let mut last = pages();
    let blocks: Vec<Vec<u8>> = (0..4000)
        .map(|n| {
            let block = vec![n as u8; 8000];
            if pages() != last {
                grows += 1;
                last = pages();
            }
            block
        })
        .collect();
    // 32 MB in 8 KB blocks: 500 pages, 500 grows at a page at a time.
    assert!(grows <= 40, "memory grew {grows} times for 500 pages");
    assert!(blocks.iter().enumerate().all(|(n, b)| b[7999] == n as u8));
}
