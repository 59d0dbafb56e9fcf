//! aiokit in the browser: walk a paginated JSON list, fetch every item's
//! detail with at most 4 requests in flight and a timeout on each, and show
//! each outcome in the page as soon as it arrives.
//!
//! The same code as on a server: `paginate` for the list, `.map(..)` to turn
//! each id into a request, `gather_settled_stream().limit(4)` to run them,
//! `timeout` per request. Only the HTTP calls are the browser's (`fetch`).

use std::time::Duration;

use aiokit::prelude::*;
use aiokit::{Page, Settled};
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Request, RequestInit, Response};

/// One page of the list: item ids and the next page, if any.
#[derive(Deserialize)]
struct ListPage {
    items: Vec<u32>,
    next: Option<u32>,
}

/// One item's detail.
#[derive(Deserialize)]
struct Detail {
    id: u32,
    name: String,
}

/// How long one detail request may take.
const PER_REQUEST: Duration = Duration::from_millis(800);
/// At most this many detail requests in flight.
const IN_FLIGHT: usize = 4;

/// Aborts the browser's request when the future that awaits it is dropped
/// (by its timeout), so the server sees it end.
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// GETs `url` and returns the body, or the failure as text.
async fn get_text(url: String) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let abort = AbortOnDrop(AbortController::new().map_err(|e| format!("{e:?}"))?);
    let init = RequestInit::new();
    init.set_signal(Some(&abort.0.signal()));
    let request = Request::new_with_str_and_init(&url, &init).map_err(|e| format!("{e:?}"))?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| format!("network error: {e:?}"))?;
    let response: Response = response.dyn_into().map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(text.as_string().unwrap_or_default())
}

async fn fetch_page(page: u32) -> Result<Page<u32, u32>, String> {
    let body = get_text(format!("/api/items?page={page}")).await?;
    let page: ListPage = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    Ok(match page.next {
        Some(next) => Page::next(page.items, next),
        None => Page::last(page.items),
    })
}

async fn fetch_detail(id: u32) -> Result<Detail, String> {
    let body = get_text(format!("/api/items/{id}")).await?;
    serde_json::from_str(&body).map_err(|e| e.to_string())
}

fn append(list: &web_sys::Element, class: &str, id: u32, text: &str) -> Result<(), JsValue> {
    let document = web_sys::window().unwrap().document().unwrap();
    let li = document.create_element("li")?;
    li.set_class_name(class);
    li.set_attribute("data-id", &id.to_string())?;
    li.set_text_content(Some(text));
    list.append_child(&li)?;
    Ok(())
}

#[wasm_bindgen(start)]
pub async fn main() -> Result<(), JsValue> {
    let document = web_sys::window().unwrap().document().unwrap();
    let list = document.get_element_by_id("outcomes").unwrap();
    let status = document.get_element_by_id("status").unwrap();
    status.set_text_content(Some("loading..."));

    // Every id of the list, page after page, as a stream.
    let ids = aiokit::paginate(1u32, fetch_page);
    let mut ids_seen = Vec::new();
    let mut outcomes = ids
        .map(|id| {
            let id = id.expect("the list pages load");
            ids_seen.push(id);
            async move {
                match aiokit::timeout(PER_REQUEST, fetch_detail(id)).await {
                    Ok(detail) => detail.map_err(|e| (id, e)),
                    Err(_elapsed) => Err((id, format!("timed out after {PER_REQUEST:?}"))),
                }
            }
        })
        .gather_settled_stream()
        .limit(IN_FLIGHT)
        .completion_order();

    let (mut ok, mut failed) = (0, 0);
    while let Some((_, outcome)) = outcomes.next().await {
        match outcome {
            Settled::Ok(detail) => {
                ok += 1;
                append(
                    &list,
                    "ok",
                    detail.id,
                    &format!("#{}: {}", detail.id, detail.name),
                )?;
            }
            Settled::Err((id, error)) => {
                failed += 1;
                append(&list, "failed", id, &format!("#{id}: failed: {error}"))?;
            }
            Settled::Panicked(panic) => {
                failed += 1;
                append(&list, "failed", 0, &format!("panicked: {panic}"))?;
            }
        }
        status.set_text_content(Some(&format!("{} outcomes so far", ok + failed)));
    }
    drop(outcomes);
    let done = document.create_element("p")?;
    done.set_id("done");
    done.set_text_content(Some(&format!(
        "{} items: {ok} loaded, {failed} failed, at most {IN_FLIGHT} requests at a time",
        ids_seen.len()
    )));
    status.set_text_content(Some("done"));
    document.body().unwrap().append_child(&done)?;
    Ok(())
}
