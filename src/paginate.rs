//! Paginated APIs as streams: [`paginate()`] for cursor, token and next-URL
//! APIs, [`paginate_numbered()`] for page-number and offset APIs.

use std::collections::HashSet;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(feature = "time")]
use std::time::Duration;

use futures_core::{FusedStream, Stream};

mod pager;
mod retry;

use self::pager::{Core, CursorMode, NumberedMode, Reader};
#[cfg(feature = "time")]
pub use self::retry::Retry;

/// How many pages one `poll_next` may skip (empty pages) before it yields to
/// the executor, so an API that returns endless empty pages cannot starve it.
const PAGES_PER_POLL: usize = 64;

/// One page of results: its items and the cursor of the page after it.
///
/// Build it with [`Page::next`] when more pages follow and [`Page::last`] on
/// the last page.
///
/// # Examples
///
/// ```
/// use aiokit::Page;
///
/// let page: Page<&str, u32> = Page::next(["a", "b"], 2);
/// assert_eq!(page.items, ["a", "b"]);
/// assert_eq!(page.next_cursor, Some(2));
///
/// let last: Page<&str, u32> = Page::last(["c"]);
/// assert_eq!(last.next_cursor, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, C> {
    /// The items of this page, in the order the API returned them.
    pub items: Vec<T>,
    /// The cursor to request the page after this one with; `None` on the last
    /// page.
    pub next_cursor: Option<C>,
}

impl<T, C> Page<T, C> {
    /// A page with more pages after it, starting at `cursor`.
    ///
    /// # Examples
    ///
    /// ```
    /// let page = aiokit::Page::next(vec![1, 2, 3], "token-2");
    /// assert_eq!(page.next_cursor, Some("token-2"));
    /// ```
    pub fn next<I>(items: I, cursor: C) -> Self
    where
        I: IntoIterator<Item = T>,
    {
        Self {
            items: items.into_iter().collect(),
            next_cursor: Some(cursor),
        }
    }

    /// The last page: the stream ends after its items.
    ///
    /// # Examples
    ///
    /// ```
    /// let page: aiokit::Page<u8, String> = aiokit::Page::last(vec![7]);
    /// assert_eq!(page.next_cursor, None);
    /// ```
    pub fn last<I>(items: I) -> Self
    where
        I: IntoIterator<Item = T>,
    {
        Self {
            items: items.into_iter().collect(),
            next_cursor: None,
        }
    }
}

/// The error a paginated stream yields, once, before it ends.
///
/// Both variants carry a cursor: for [`PageError::Fetch`] it is the cursor of
/// the page that failed, so the listing can be resumed later by starting a new
/// stream there (like boto3's `StartingToken`).
///
/// Its `Display` says what failed and where, in lowercase, without the fetch
/// error's own message: that error is the [`source()`](Error::source), so an
/// error report that walks the chain (anyhow's `{:#}`, `eyre`) prints each
/// message once: `fetching the page at cursor 3 failed: HTTP 503`. The
/// cursor is printed with its `Debug` form.
///
/// # Examples
///
/// ```
/// use aiokit::{Page, PageError};
/// use aiokit::prelude::*;
///
/// # smol::block_on(async {
/// let mut items = aiokit::paginate(0u32, |page| async move {
///     match page {
///         0 => Ok(Page::next(["a"], 1)),
///         _ => Err("503 Service Unavailable"),
///     }
/// });
/// assert_eq!(items.next().await, Some(Ok("a")));
/// let error = items.next().await.unwrap().unwrap_err();
/// assert_eq!(error.cursor(), &1);
/// assert_eq!(error.fetch_error(), Some(&"503 Service Unavailable"));
/// assert_eq!(items.next().await, None);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageError<E, C> {
    /// `fetch` returned `Err` for the page at `cursor` (after any retries).
    Fetch {
        /// The error `fetch` returned.
        error: E,
        /// The cursor of the page that failed: start a new stream here to
        /// resume.
        cursor: C,
    },
    /// The API handed back a cursor that this stream had already requested,
    /// which would loop forever. See [`Paginate::on_repeat`].
    RepeatedCursor {
        /// The repeated cursor.
        cursor: C,
    },
}

impl<E, C> PageError<E, C> {
    /// The cursor of the failed page, or the repeated cursor.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = aiokit::PageError::<&str, u32>::RepeatedCursor { cursor: 3 };
    /// assert_eq!(error.cursor(), &3);
    /// ```
    pub fn cursor(&self) -> &C {
        match self {
            Self::Fetch { cursor, .. } | Self::RepeatedCursor { cursor } => cursor,
        }
    }

    /// Takes the cursor out (see [`PageError::cursor`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let error = aiokit::PageError::Fetch { error: "timeout", cursor: String::from("t2") };
    /// assert_eq!(error.into_cursor(), "t2");
    /// ```
    pub fn into_cursor(self) -> C {
        match self {
            Self::Fetch { cursor, .. } | Self::RepeatedCursor { cursor } => cursor,
        }
    }

    /// The error `fetch` returned, if that is what ended the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = aiokit::PageError::Fetch { error: "timeout", cursor: 2 };
    /// assert_eq!(error.fetch_error(), Some(&"timeout"));
    /// ```
    pub fn fetch_error(&self) -> Option<&E> {
        match self {
            Self::Fetch { error, .. } => Some(error),
            Self::RepeatedCursor { .. } => None,
        }
    }

    /// Takes out the error `fetch` returned, if that is what ended the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = aiokit::PageError::<&str, u8>::RepeatedCursor { cursor: 1 };
    /// assert_eq!(error.into_fetch_error(), None);
    /// ```
    pub fn into_fetch_error(self) -> Option<E> {
        match self {
            Self::Fetch { error, .. } => Some(error),
            Self::RepeatedCursor { .. } => None,
        }
    }
}

impl<E, C: fmt::Debug> fmt::Display for PageError<E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The fetch error itself is the `source()`, not repeated here.
            Self::Fetch { cursor, .. } => {
                write!(f, "fetching the page at cursor {cursor:?} failed")
            }
            Self::RepeatedCursor { cursor } => write!(
                f,
                "the API returned cursor {cursor:?} again after it was already requested"
            ),
        }
    }
}

impl<E, C> Error for PageError<E, C>
where
    E: Error + 'static,
    C: fmt::Debug,
{
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Fetch { error, .. } => Some(error),
            Self::RepeatedCursor { .. } => None,
        }
    }
}

/// What a [`paginate()`] stream does when the API hands back a cursor it has
/// already requested (see [`Paginate::on_repeat`]).
///
/// # Examples
///
/// ```
/// assert_eq!(aiokit::OnRepeat::default(), aiokit::OnRepeat::Error);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum OnRepeat {
    /// Yield [`PageError::RepeatedCursor`] after the page that returned it,
    /// then end. The default.
    #[default]
    Error,
    /// End quietly after the page that returned it (for APIs that repeat the
    /// last token on purpose, such as log tailing APIs).
    Stop,
    /// Do not track cursors at all: no memory cost, and a repeating API loops
    /// for as long as it repeats.
    Allow,
}

/// Streams the items of a cursor-paginated API, requesting page after page,
/// like an `async def` generator over `nextPageToken`s or Octokit's
/// `paginate.iterator`.
///
/// `fetch(cursor)` requests one page and returns its items and the cursor of
/// the page after it ([`Page::next`]), or marks it as the last one
/// ([`Page::last`]). The stream yields every item in order, then ends. It is a
/// real [`Stream`]: every `StreamExt` / `TryStreamExt` combinator works on it.
///
/// - **Lazy**: nothing is requested before the first poll, and by default
///   reading an item requests at most one page (the next one, once the items
///   of the current page are used up). [`Paginate::prefetch`] requests ahead.
/// - **Errors**: when `fetch` returns `Err`, the items of the pages before it
///   are yielded, then one [`PageError::Fetch`] carrying the error and the
///   cursor of the failed page, then the stream ends (it is a
///   [`FusedStream`]). To resume, start a new stream at that cursor. Retries:
///   `Paginate::retry` (feature `time`).
/// - **No infinite loops**: a cursor that was already requested (`A, A` or a
///   cycle `A, B, A`) yields [`PageError::RepeatedCursor`] and ends the
///   stream; see [`Paginate::on_repeat`] for the memory this takes and the
///   other settings.
/// - **Empty pages** in the middle are skipped; an empty last page ends the
///   stream.
/// - [`Paginate::pages`] yields whole pages instead of items;
///   [`Paginate::max_items`] and [`Paginate::max_pages`] stop early;
///   `Paginate::min_interval` (feature `time`) spaces requests out.
///
/// Cursors are `Clone + Eq + Hash` (strings, integers, URLs, or a struct of
/// them): a clone goes into each request, one into the error, and one into
/// the set of requested cursors. For page-number and offset APIs, whose
/// cursors are known in advance and can be requested concurrently, see
/// [`paginate_numbered()`].
///
/// # Cancellation
///
/// Dropping the stream drops the request in flight (the future `fetch`
/// returned), if any, and the items not yet read.
///
/// # Panics
///
/// A panic in `fetch`, in its future or in a `Retry` predicate propagates
/// to the caller of `poll_next`. The stream is over from then on: the request
/// in flight is dropped during the unwind, and a stream polled again (after
/// `catch_unwind`) yields the items that had arrived before the panic, then
/// `None`.
///
/// # Examples
///
/// An opaque token in the response body (AWS `NextToken`, Google
/// `nextPageToken`), with the end of the list signalled by a missing token:
///
/// ```
/// use aiokit::Page;
/// use aiokit::prelude::*;
///
/// // A stand-in for an HTTP API: GET /items?token=... -> (items, next_token).
/// async fn list_items(token: Option<String>) -> Result<(Vec<u32>, Option<String>), String> {
///     Ok(match token.as_deref() {
///         None => (vec![1, 2], Some("t2".into())),
///         Some("t2") => (vec![3, 4], Some("t3".into())),
///         Some("t3") => (vec![5], None),
///         Some(other) => return Err(format!("bad token {other}")),
///     })
/// }
///
/// # smol::block_on(async {
/// let items = aiokit::paginate(None, |token| async move {
///     let (items, next) = list_items(token).await?;
///     // Some APIs end with an empty token instead of none.
///     Ok::<_, String>(match next.filter(|t| !t.is_empty()) {
///         Some(next) => Page::next(items, Some(next)),
///         None => Page::last(items),
///     })
/// });
/// let all: Vec<u32> = items.map(|item| item.unwrap()).collect().await;
/// assert_eq!(all, [1, 2, 3, 4, 5]);
/// # });
/// ```
///
/// A next URL, e.g. from a `Link: <...>; rel="next"` header (GitHub) or a
/// `next_page_url` field (the cursor is the URL itself):
///
/// ```
/// use aiokit::Page;
/// use aiokit::prelude::*;
///
/// /// Returns the body and the `Link` header of a GET.
/// async fn get(url: String) -> Result<(Vec<String>, String), std::io::Error> {
///     let page: u32 = url.rsplit('=').next().unwrap().parse().unwrap();
///     let link = if page < 3 {
///         format!("<https://api.example.com/repos?page={}>; rel=\"next\"", page + 1)
///     } else {
///         String::new()
///     };
///     Ok((vec![format!("repo {page}")], link))
/// }
///
/// /// The URL with `rel="next"` in a `Link` header, if any.
/// fn next_link(header: &str) -> Option<String> {
///     header.split(',').find_map(|part| {
///         let (url, params) = part.split_once(';')?;
///         params.contains("rel=\"next\"").then(|| {
///             url.trim().trim_start_matches('<').trim_end_matches('>').to_string()
///         })
///     })
/// }
///
/// # smol::block_on(async {
/// let first = "https://api.example.com/repos?page=1".to_string();
/// let repos = aiokit::paginate(first, |url| async move {
///     let (items, link) = get(url).await?;
///     Ok::<_, std::io::Error>(match next_link(&link) {
///         Some(next) => Page::next(items, next),
///         None => Page::last(items),
///     })
/// });
/// let names: Vec<String> = repos.try_collect().await.unwrap();
/// assert_eq!(names, ["repo 1", "repo 2", "repo 3"]);
/// # });
/// ```
///
/// A client captured by the fetch closure. The closure is called once per
/// page and each call returns a future that must own what it uses, so the
/// client cannot be *moved* into each future: borrow it, or clone it per
/// request (see the compile errors below).
///
/// ```
/// use aiokit::Page;
/// use aiokit::prelude::*;
///
/// # #[derive(Debug)]
/// # struct HttpError;
/// /// An HTTP client (`reqwest::Client`, `ureq::Agent`, ...): cheap to clone,
/// /// but not `Copy`.
/// #[derive(Clone)]
/// struct Client {
///     base: String,
/// }
///
/// impl Client {
///     /// GET {base}/items?cursor=N -> the items and the next cursor.
///     async fn get_page(&self, cursor: u32) -> Result<(Vec<u32>, Option<u32>), HttpError> {
///         Ok((vec![cursor * 10, cursor * 10 + 1], (cursor < 2).then_some(cursor + 1)))
///     }
/// }
///
/// # smol::block_on(async {
/// let client = Client { base: "https://api.example.com".into() };
///
/// // Borrowed: every request uses `&client`; the stream lives no longer than
/// // the client.
/// let client = &client;
/// let items = aiokit::paginate(0u32, move |cursor| async move {
///     let (items, next) = client.get_page(cursor).await?;
///     // `Ok::<_, HttpError>`: the `?` above needs to know the error type.
///     Ok::<_, HttpError>(match next {
///         Some(next) => Page::next(items, next),
///         None => Page::last(items),
///     })
/// });
/// assert_eq!(items.count().await, 6);
///
/// // Cloned per request: each future owns its client, so the stream owns
/// // everything it uses (`'static`): it can be returned, stored or spawned.
/// fn list(client: Client) -> impl Stream<Item = Result<u32, aiokit::PageError<HttpError, u32>>> {
///     aiokit::paginate(0u32, move |cursor| {
///         let client = client.clone();
///         async move {
///             let (items, next) = client.get_page(cursor).await?;
///             Ok::<_, HttpError>(match next {
///                 Some(next) => Page::next(items, next),
///                 None => Page::last(items),
///             })
///         }
///     })
/// }
/// assert_eq!(list(client.clone()).count().await, 6);
/// # });
/// ```
///
/// ## Common compile errors
///
/// **E0507** "cannot move out of `client`, a captured variable in an `FnMut`
/// closure", often followed by errors about the closure being `FnOnce`: an
/// `async move` block inside the closure moves the client into the first
/// request's future, and the closure needs it again for the next page. Borrow
/// the client (`let client = &client;` before the closure, so that the
/// `async move` block copies the reference), or clone it at the top of the
/// closure, before the `async move` block, as above.
///
/// ```compile_fail,E0507
/// # use aiokit::Page;
/// # #[derive(Debug)]
/// # struct HttpError;
/// # /// An HTTP client (`reqwest::Client`, `ureq::Agent`, ...): cheap to clone,
/// # /// but not `Copy`.
/// #[derive(Clone)]
/// # struct Client {
/// #     base: String,
/// # }
/// #
/// # impl Client {
/// #     /// GET {base}/items?cursor=N -> the items and the next cursor.
/// #     async fn get_page(&self, cursor: u32) -> Result<(Vec<u32>, Option<u32>), HttpError> {
/// #         Ok((vec![cursor * 10, cursor * 10 + 1], (cursor < 2).then_some(cursor + 1)))
/// #     }
/// # }
/// let client = Client { base: "https://api.example.com".into() };
/// let items = aiokit::paginate(0u32, move |cursor| async move {
///     let (items, next) = client.get_page(cursor).await?; // E0507
///     Ok::<_, HttpError>(match next {
///         Some(next) => Page::next(items, next),
///         None => Page::last(items),
///     })
/// });
/// # drop(items);
/// ```
///
/// **E0282** "type annotations needed" on the `?` or the `Ok(...)` of the
/// closure's `async` block: `?` converts errors with `From`, so nothing fixes
/// the error type of the block. Name it on the value the block returns:
/// `Ok::<_, HttpError>(...)` (or give the block a typed `let` binding).
///
/// ```compile_fail,E0282
/// # use aiokit::Page;
/// # #[derive(Debug)]
/// # struct HttpError;
/// # /// An HTTP client (`reqwest::Client`, `ureq::Agent`, ...): cheap to clone,
/// # /// but not `Copy`.
/// #[derive(Clone)]
/// # struct Client {
/// #     base: String,
/// # }
/// #
/// # impl Client {
/// #     /// GET {base}/items?cursor=N -> the items and the next cursor.
/// #     async fn get_page(&self, cursor: u32) -> Result<(Vec<u32>, Option<u32>), HttpError> {
/// #         Ok((vec![cursor * 10, cursor * 10 + 1], (cursor < 2).then_some(cursor + 1)))
/// #     }
/// # }
/// let client = Client { base: "https://api.example.com".into() };
/// let client = &client;
/// let items = aiokit::paginate(0u32, move |cursor| async move {
///     let (items, next) = client.get_page(cursor).await?;
///     Ok(match next { // E0282: the error type is unknown
///         Some(next) => Page::next(items, next),
///         None => Page::last(items),
///     })
/// });
/// # drop(items);
/// ```
pub fn paginate<C, F, Fut, T, E>(first_cursor: C, fetch: F) -> Paginate<C, F, Fut, T, E>
where
    C: Clone + Eq + Hash,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>, E>>,
{
    Paginate {
        core: Core::new(
            first_cursor,
            fetch,
            CursorMode {
                on_repeat: OnRepeat::Error,
                seen: HashSet::new(),
            },
        ),
        current: Vec::new().into_iter(),
        terminated: false,
    }
}

/// Stream for the [`paginate()`] function.
#[must_use = "streams do nothing unless polled"]
pub struct Paginate<C, F, Fut, T, E> {
    core: Core<C, F, Fut, Page<T, C>, T, E, CursorMode<C>>,
    current: std::vec::IntoIter<T>,
    terminated: bool,
}

// Requests are pinned in their own allocation; nothing else is pinned.
impl<C, F, Fut, T, E> Unpin for Paginate<C, F, Fut, T, E> {}

/// Polls an item stream: the shared body of [`Paginate`] and
/// [`PaginateNumbered`]. The fast path (an item of the current page, nothing
/// in flight) is inlined into the caller; the rest, once per page, is not.
#[inline]
fn poll_items<C, F, Fut, O, T, E, M>(
    core: &mut Core<C, F, Fut, O, T, E, M>,
    current: &mut std::vec::IntoIter<T>,
    terminated: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<T, PageError<E, C>>>>
where
    C: Clone,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    M: pager::Mode<C, O, Item = T>,
{
    // Nothing to drive: every start happens right after a page is taken, in
    // `poll_items_slow`.
    if core.is_idle() {
        if let Some(item) = current.next() {
            return Poll::Ready(Some(Ok(item)));
        }
    }
    poll_items_slow(core, current, terminated, cx)
}

#[inline(never)]
fn poll_items_slow<C, F, Fut, O, T, E, M>(
    core: &mut Core<C, F, Fut, O, T, E, M>,
    current: &mut std::vec::IntoIter<T>,
    terminated: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<T, PageError<E, C>>>>
where
    C: Clone,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    M: pager::Mode<C, O, Item = T>,
{
    if *terminated {
        return Poll::Ready(None);
    }
    let mut pages = 0;
    loop {
        let reader = if current.as_slice().is_empty() {
            Reader::Waiting
        } else {
            Reader::Reading
        };
        core.drive(cx, reader);
        if let Some(item) = current.next() {
            return Poll::Ready(Some(Ok(item)));
        }
        match core.pop() {
            Some(Ok(page)) => {
                *current = page.items.into_iter();
                pages += 1;
                if pages == PAGES_PER_POLL {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
            Some(Err(error)) => {
                // An error is always the last thing a stream yields.
                *terminated = core.is_finished();
                return Poll::Ready(Some(Err(error)));
            }
            None if core.is_finished() => {
                *terminated = true;
                return Poll::Ready(None);
            }
            None => return Poll::Pending,
        }
    }
}

/// The builder methods shared by [`Paginate`] and [`PaginateNumbered`].
macro_rules! common_builders {
    ($name:literal, $example:literal) => {
        /// Requests up to `pages` pages ahead of the page being read, while
        /// the consumer works through the current items.
        ///
        #[doc = concat!("With the default of 0, the next page is requested only when the current one is used up. ", $example)]
        ///
        /// Requests in flight are polled whenever the stream is polled.
        /// Requests that make progress on their own (a thread, a spawned task,
        /// a timer) therefore overlap fully with the consumer's work.
        ///
        /// `pages` is clamped to 1,024, so `prefetch(usize::MAX)` means "as
        /// far ahead as allowed". Requests start one at a time and each is
        /// polled as it starts, so nothing is allocated for a request that
        /// has not started, and once a response ends the list (the last page,
        /// an error) no request starts after it.
        ///
        /// # Panics
        ///
        /// If the stream was already polled.
        ///
        /// # Examples
        ///
        /// ```
        /// use aiokit::Page;
        /// use aiokit::prelude::*;
        ///
        /// # smol::block_on(async {
        /// let requested = std::cell::Cell::new(0);
        /// let mut items = aiokit::paginate(0u32, |page| {
        ///     requested.set(requested.get() + 1);
        ///     async move { Ok::<_, ()>(Page::next([page * 10, page * 10 + 1], page + 1)) }
        /// })
        /// .prefetch(1);
        /// assert_eq!(items.next().await, Some(Ok(0)));
        /// // Page 1 was requested as soon as page 0 arrived.
        /// assert_eq!(requested.get(), 2);
        ///
        /// // Page numbers: up to 4 requests at once, items in page order.
        /// let numbered = aiokit::paginate_numbered(1u32, |page| page + 1, |page| async move {
        ///     Ok::<_, ()>(if page <= 8 { vec![page] } else { vec![] })
        /// })
        /// .prefetch(4);
        /// let pages: Vec<u32> = numbered.map(Result::unwrap).collect().await;
        /// assert_eq!(pages, [1, 2, 3, 4, 5, 6, 7, 8]);
        /// # });
        /// ```
        #[track_caller]
        pub fn prefetch(mut self, pages: usize) -> Self {
            self.core.configure(concat!($name, "::prefetch")).set_prefetch(pages);
            self
        }

        /// Stops after `items` items, without requesting a page once that
        /// many items have arrived. The last page is cut short if needed.
        ///
        /// With [`prefetch`](Self::prefetch), pages already in flight when the
        /// cap is reached are dropped. `max_items(0)` requests nothing and
        /// ends at once; `usize::MAX` (the default) means no cap.
        ///
        /// # Panics
        ///
        /// If the stream was already polled.
        ///
        /// # Examples
        ///
        /// ```
        /// use aiokit::Page;
        /// use aiokit::prelude::*;
        ///
        /// # smol::block_on(async {
        /// let requested = std::cell::Cell::new(0);
        /// let items = aiokit::paginate(0u32, |page| {
        ///     requested.set(requested.get() + 1);
        ///     async move { Ok::<_, ()>(Page::next([page; 10], page + 1)) }
        /// })
        /// .max_items(15);
        /// assert_eq!(items.count().await, 15);
        /// assert_eq!(requested.get(), 2);
        ///
        /// let numbered = aiokit::paginate_numbered(0u32, |page| page + 1, |page| async move {
        ///     Ok::<_, ()>(vec![page; 10])
        /// })
        /// .max_items(25);
        /// assert_eq!(numbered.count().await, 25);
        /// # });
        /// ```
        #[track_caller]
        pub fn max_items(mut self, items: usize) -> Self {
            self.core.configure(concat!($name, "::max_items")).set_max_items(items);
            self
        }

        /// Requests at most `pages` pages (retries of a page do not count).
        /// `max_pages(0)` requests nothing and ends at once; `usize::MAX` (the
        /// default) means no cap.
        ///
        /// # Panics
        ///
        /// If the stream was already polled.
        ///
        /// # Examples
        ///
        /// ```
        /// use aiokit::Page;
        /// use aiokit::prelude::*;
        ///
        /// # smol::block_on(async {
        /// let items = aiokit::paginate(0u32, |page| async move {
        ///     Ok::<_, ()>(Page::next([page], page + 1))
        /// })
        /// .max_pages(3);
        /// let pages: Vec<_> = items.map(Result::unwrap).collect().await;
        /// assert_eq!(pages, [0, 1, 2]);
        ///
        /// let numbered = aiokit::paginate_numbered(0u32, |page| page + 1, |page| async move {
        ///     Ok::<_, ()>(vec![page])
        /// })
        /// .max_pages(2);
        /// assert_eq!(numbered.count().await, 2);
        /// # });
        /// ```
        #[track_caller]
        pub fn max_pages(mut self, pages: usize) -> Self {
            self.core.configure(concat!($name, "::max_pages")).set_max_pages(pages);
            self
        }

        /// Retries failed pages with exponential backoff, as configured by
        /// `retry` (see [`Retry`]). Each page is retried on its own; the
        /// stream yields the error only when the page still fails.
        ///
        /// # Panics
        ///
        /// If the stream was already polled.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// use aiokit::{Page, Retry};
        /// use aiokit::prelude::*;
        ///
        /// # smol::block_on(async {
        /// let calls = std::cell::Cell::new(0);
        /// let items = aiokit::paginate(0u32, |page| {
        ///     calls.set(calls.get() + 1);
        ///     let flaky = calls.get() == 1; // the very first request fails
        ///     async move {
        ///         if flaky { Err(503) } else { Ok(Page::last([page])) }
        ///     }
        /// })
        /// .retry(Retry::new(3, |status: &u16| *status >= 500).backoff(Duration::from_millis(1)));
        /// let all: Vec<_> = items.collect().await;
        /// assert_eq!(all, [Ok(0)]);
        /// assert_eq!(calls.get(), 2);
        /// # });
        /// ```
        #[cfg(feature = "time")]
        #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
        #[track_caller]
        pub fn retry(mut self, retry: Retry<E>) -> Self {
            self.core
                .configure(concat!($name, "::retry"))
                .pacing_mut()
                .set_retry(retry);
            self
        }

        /// Starts requests (retries included) at least `interval` apart, a
        /// simple client-side rate limit. The first request is not delayed.
        /// An interval too long for `Instant` to represent (such as
        /// `Duration::MAX`) means no second request, ever: the stream stays
        /// pending (without polling in a loop) until it is dropped.
        ///
        /// # Panics
        ///
        /// If the stream was already polled.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::{Duration, Instant};
        /// use aiokit::Page;
        /// use aiokit::prelude::*;
        ///
        /// # smol::block_on(async {
        /// let start = Instant::now();
        /// let items = aiokit::paginate(0u32, |page| async move {
        ///     Ok::<_, ()>(if page < 2 { Page::next([page], page + 1) } else { Page::last([page]) })
        /// })
        /// .min_interval(Duration::from_millis(20));
        /// assert_eq!(items.count().await, 3);
        /// assert!(start.elapsed() >= Duration::from_millis(40));
        /// # });
        /// ```
        #[cfg(feature = "time")]
        #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
        #[track_caller]
        pub fn min_interval(mut self, interval: Duration) -> Self {
            self.core
                .configure(concat!($name, "::min_interval"))
                .pacing_mut()
                .set_min_interval(interval);
            self
        }
    };
}

impl<C, F, Fut, T, E> Paginate<C, F, Fut, T, E> {
    common_builders!(
        "Paginate",
        "With `k` pages, up to `k` pages wait, arrived or in flight, while the consumer is on the current page; since each cursor arrives with the page before it, one request is in flight at a time, and it starts the moment its cursor arrives if the window has room (otherwise as soon as the consumer moves on to the next page)."
    );

    /// Chooses what happens when the API hands back a cursor this stream has
    /// already requested: [`OnRepeat::Error`] (the default) yields
    /// [`PageError::RepeatedCursor`] naming it, then ends; [`OnRepeat::Stop`]
    /// ends quietly; [`OnRepeat::Allow`] turns tracking off.
    ///
    /// In both the page that returned the repeated cursor is yielded first.
    /// Tracking catches any cycle (`A, A` and `A, B, A` alike), at the cost of
    /// a clone of every cursor requested, kept until the stream is dropped:
    /// memory grows with the number of pages, like a `HashSet<C>` of them.
    /// [`OnRepeat::Allow`] costs nothing, and then a repeating API loops for
    /// as long as it repeats (cap it with [`max_pages`](Self::max_pages)).
    ///
    /// # Panics
    ///
    /// If the stream was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::{OnRepeat, Page};
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// // A tailing API that returns its last token again at the end.
    /// let fetch = |token: u32| async move {
    ///     Ok::<_, ()>(Page::next([token], token.min(2) + 1))
    /// };
    /// let by_default: Vec<_> = aiokit::paginate(0, fetch).collect().await;
    /// assert_eq!(by_default.len(), 5);
    /// assert_eq!(by_default[4].as_ref().unwrap_err().cursor(), &3);
    ///
    /// let quiet: Vec<_> = aiokit::paginate(0, fetch).on_repeat(OnRepeat::Stop).collect().await;
    /// assert_eq!(quiet, [Ok(0), Ok(1), Ok(2), Ok(3)]);
    /// # });
    /// ```
    #[track_caller]
    pub fn on_repeat(mut self, on_repeat: OnRepeat) -> Self {
        self.core
            .configure("Paginate::on_repeat")
            .mode_mut()
            .on_repeat = on_repeat;
        self
    }

    /// The same stream, yielding whole [`Page`]s instead of items, like
    /// boto3 paginators or `@octokit`'s `paginate.iterator`.
    ///
    /// Every setting carries over. [`prefetch`](Self::prefetch) counts pages
    /// past the last one yielded. Pages are yielded as they are, empty ones
    /// included; with [`max_items`](Self::max_items) the last page is cut
    /// short (its `next_cursor` is still the one the API returned).
    ///
    /// # Panics
    ///
    /// If the stream was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::Page;
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let pages = aiokit::paginate(1u32, |page| async move {
    ///     Ok::<_, ()>(if page < 3 { Page::next([page; 2], page + 1) } else { Page::last([page]) })
    /// })
    /// .pages();
    /// let sizes: Vec<usize> = pages.map(|page| page.unwrap().items.len()).collect().await;
    /// assert_eq!(sizes, [2, 2, 1]);
    /// # });
    /// ```
    #[track_caller]
    pub fn pages(mut self) -> Pages<C, F, Fut, T, E> {
        self.core.configure("Paginate::pages");
        Pages {
            core: self.core,
            terminated: false,
        }
    }
}

impl<C, F, Fut, T, E> Stream for Paginate<C, F, Fut, T, E>
where
    C: Clone + Eq + Hash,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>, E>>,
{
    type Item = Result<T, PageError<E, C>>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        poll_items(&mut this.core, &mut this.current, &mut this.terminated, cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.terminated {
            (0, Some(0))
        } else {
            (self.current.len(), None)
        }
    }
}

impl<C, F, Fut, T, E> FusedStream for Paginate<C, F, Fut, T, E>
where
    C: Clone + Eq + Hash,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>, E>>,
{
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<C, F, Fut, T, E> fmt::Debug for Paginate<C, F, Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Paginate");
        s.field("items_ready", &self.current.len());
        self.core.debug_fields(&mut s);
        s.finish_non_exhaustive()
    }
}

/// Stream for the [`Paginate::pages`] method.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<C, F, Fut, T, E> {
    core: Core<C, F, Fut, Page<T, C>, T, E, CursorMode<C>>,
    terminated: bool,
}

impl<C, F, Fut, T, E> Unpin for Pages<C, F, Fut, T, E> {}

impl<C, F, Fut, T, E> Stream for Pages<C, F, Fut, T, E>
where
    C: Clone + Eq + Hash,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>, E>>,
{
    type Item = Result<Page<T, C>, PageError<E, C>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        this.core.drive(cx, Reader::Waiting);
        match this.core.pop() {
            Some(Ok(page)) => {
                // The consumer now holds a page: refill the prefetch window.
                this.core.drive(cx, Reader::Reading);
                Poll::Ready(Some(Ok(page)))
            }
            Some(Err(error)) => {
                // An error is always the last thing a stream yields.
                this.terminated = this.core.is_finished();
                Poll::Ready(Some(Err(error)))
            }
            None if this.core.is_finished() => {
                this.terminated = true;
                Poll::Ready(None)
            }
            None => Poll::Pending,
        }
    }
}

impl<C, F, Fut, T, E> FusedStream for Pages<C, F, Fut, T, E>
where
    C: Clone + Eq + Hash,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Page<T, C>, E>>,
{
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<C, F, Fut, T, E> fmt::Debug for Pages<C, F, Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Pages");
        self.core.debug_fields(&mut s);
        s.finish_non_exhaustive()
    }
}

/// Streams the items of a page-number or offset API, whose cursors are known
/// in advance, requesting up to `k` pages concurrently with
/// [`prefetch(k)`](PaginateNumbered::prefetch) and yielding items in page
/// order.
///
/// `fetch(cursor)` returns the items of one page; `step(&cursor)` computes the
/// cursor after it (`page + 1`, `offset + limit`). The stream ends at the
/// first empty page, or, with [`page_size(n)`](PaginateNumbered::page_size),
/// after the first page with fewer than `n` items. Nothing from pages after
/// the end is yielded, and requests for them are dropped as soon as the end
/// page arrives, and none start after it: with `prefetch(k)` at most `k - 1`
/// requests go past the end (`k` requests are in flight or waiting to be read
/// at most, the end page among them), and none when responses arrive at once.
///
/// Laziness, errors (one [`PageError::Fetch`] with the failed page's cursor,
/// then the end; later pages in flight are dropped), cancellation, caps,
/// retries and rate limit are as for [`paginate()`]. Cursors are computed,
/// not returned by the API, so they are not checked for repeats.
///
/// # Cancellation
///
/// Dropping the stream drops every request in flight.
///
/// # Panics
///
/// A panic in `fetch`, its future, `step` or a `Retry` predicate
/// propagates to the caller of `poll_next`. The stream is over from then on:
/// every request in flight (the other pages prefetched included) is dropped
/// during the unwind, and a stream polled again (after `catch_unwind`) yields
/// the items of the pages before the panicking one that had arrived, then
/// `None`.
///
/// # Examples
///
/// Page numbers (`?page=N&per_page=M`, GitHub style), ending on a short page,
/// four requests at a time:
///
/// ```
/// use aiokit::prelude::*;
///
/// // A stand-in for GET /users?page=N&per_page=10 over 35 users.
/// async fn users(page: u32, per_page: u32) -> Result<Vec<u32>, String> {
///     let first = (page - 1) * per_page;
///     Ok((first..(first + per_page).min(35)).collect())
/// }
///
/// # smol::block_on(async {
/// let all = aiokit::paginate_numbered(1, |page| page + 1, |page| users(page, 10))
///     .page_size(10)
///     .prefetch(4);
/// let all: Vec<u32> = all.map(Result::unwrap).collect().await;
/// assert_eq!(all, (0..35).collect::<Vec<_>>());
/// # });
/// ```
///
/// Offset and limit (`?offset=X&limit=N`), ending on an empty page:
///
/// ```
/// use aiokit::prelude::*;
///
/// const LIMIT: usize = 100;
/// async fn rows(offset: usize) -> Result<Vec<usize>, std::io::Error> {
///     Ok((offset..(offset + LIMIT).min(250)).collect())
/// }
///
/// # smol::block_on(async {
/// let count = aiokit::paginate_numbered(0, |offset| offset + LIMIT, rows)
///     .count()
///     .await;
/// assert_eq!(count, 250);
/// # });
/// ```
pub fn paginate_numbered<C, S, F, Fut, T, E>(
    first_cursor: C,
    step: S,
    fetch: F,
) -> PaginateNumbered<C, S, F, Fut, T, E>
where
    C: Clone,
    S: FnMut(&C) -> C,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    PaginateNumbered {
        core: Core::new(
            first_cursor,
            fetch,
            NumberedMode {
                step,
                page_size: None,
            },
        ),
        current: Vec::new().into_iter(),
        terminated: false,
    }
}

/// Stream for the [`paginate_numbered()`] function.
#[must_use = "streams do nothing unless polled"]
pub struct PaginateNumbered<C, S, F, Fut, T, E> {
    core: Core<C, F, Fut, Vec<T>, T, E, NumberedMode<S>>,
    current: std::vec::IntoIter<T>,
    terminated: bool,
}

impl<C, S, F, Fut, T, E> Unpin for PaginateNumbered<C, S, F, Fut, T, E> {}

impl<C, S, F, Fut, T, E> PaginateNumbered<C, S, F, Fut, T, E> {
    common_builders!(
        "PaginateNumbered",
        "With `k` pages, up to `k` requests run concurrently (requests in flight plus pages arrived but not yet read never exceed `k`), like `buffered(k)` over the page numbers, and items still come in page order."
    );

    /// Also ends the stream after the first page with fewer than `size`
    /// items (that page's items are yielded), saving the request for the
    /// empty page after it.
    ///
    /// `page_size(0)` and `page_size(1)` change nothing (the stream still
    /// ends at the first empty page); a size larger than any page the API
    /// returns ends the stream after the first page.
    ///
    /// # Panics
    ///
    /// If the stream was already polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiokit::prelude::*;
    ///
    /// # smol::block_on(async {
    /// let requested = std::cell::Cell::new(0);
    /// let items = aiokit::paginate_numbered(0, |page| page + 1, |page: usize| {
    ///     requested.set(requested.get() + 1);
    ///     async move { Ok::<_, ()>(vec![page; if page < 2 { 3 } else { 1 }]) }
    /// })
    /// .page_size(3);
    /// assert_eq!(items.count().await, 7);
    /// assert_eq!(requested.get(), 3);
    /// # });
    /// ```
    #[track_caller]
    pub fn page_size(mut self, size: usize) -> Self {
        self.core
            .configure("PaginateNumbered::page_size")
            .mode_mut()
            .page_size = Some(size);
        self
    }
}

impl<C, S, F, Fut, T, E> Stream for PaginateNumbered<C, S, F, Fut, T, E>
where
    C: Clone,
    S: FnMut(&C) -> C,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    type Item = Result<T, PageError<E, C>>;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        poll_items(&mut this.core, &mut this.current, &mut this.terminated, cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.terminated {
            (0, Some(0))
        } else {
            (self.current.len(), None)
        }
    }
}

impl<C, S, F, Fut, T, E> FusedStream for PaginateNumbered<C, S, F, Fut, T, E>
where
    C: Clone,
    S: FnMut(&C) -> C,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<C, S, F, Fut, T, E> fmt::Debug for PaginateNumbered<C, S, F, Fut, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("PaginateNumbered");
        s.field("items_ready", &self.current.len());
        self.core.debug_fields(&mut s);
        s.finish_non_exhaustive()
    }
}
