//! An in-process Zenoh session for Node.js: the part of `NativeZenohBus` (src/bus/native.ts)
//! that needs Zenoh itself. Samples and queries arrive on Zenoh's threads and are handed to
//! JavaScript through thread-safe functions; everything that may wait (open, declare, put,
//! reply, close) runs on the libuv thread pool and returns a promise, so the JavaScript thread
//! never blocks on Zenoh.
//!
//! Flow control: samples handed to JavaScript count against a byte and a sample budget until
//! JavaScript releases them (`release`, once it is done with them: stored, or given up). A
//! sample that does not fit, or any sample while receiving is paused, goes to a spill file (an unlinked file in
//! a folder given at construction, so that nothing is left behind) and is handed on, in arrival
//! order, by a drainer thread once there is room. Zenoh's receive task is never held for long:
//! held beyond Zenoh's lease (10 s), it would cost the link and what is in flight on it. Without
//! a spill folder, past the spill limit, or when the spill file cannot be written, the sample
//! waits for room instead (holding the receive task, as Zenoh's blocking FIFO handler does).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::threadsafe_function::{ErrorStrategy, ThreadSafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Error, JsFunction, JsUnknown, Result, Status, Task};
use napi_derive::napi;
use zenoh::bytes::Encoding;
use zenoh::liveliness::LivelinessToken;
use zenoh::pubsub::Subscriber;
use zenoh::query::{Query, Queryable};
use zenoh::sample::SampleKind;
use zenoh::qos::CongestionControl;
use zenoh::{Config, Session, Wait};

/// Locks `m`, also after a thread panicked while holding it (the state stays usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Samples handed to JavaScript (queued for its thread, or held by it) and not yet released.
struct Gate {
    state: Mutex<GateState>,
    room: Condvar,
    budget: usize,
    max_samples: usize,
}

struct GateState {
    queued: usize,
    samples: usize,
    paused: bool,
    closed: bool,
    /// Threads waiting on `room` (none most of the time: then a release wakes no one).
    waiting: usize,
}

impl GateState {
    /// Whether `bytes` may be queued now: not paused, and within both budgets (a sample bigger
    /// than the whole byte budget passes alone, into an empty queue).
    fn fits(&self, bytes: usize, budget: usize, max_samples: usize) -> bool {
        !self.paused && (self.samples == 0 || (self.queued + bytes <= budget && self.samples < max_samples))
    }

    /// Whether the drainer may hand on a spilled sample: not paused, and below both budgets.
    fn has_room(&self, budget: usize, max_samples: usize) -> bool {
        !self.paused && self.queued < budget && self.samples < max_samples
    }

    /// Whether the drainer may start handing on spilled samples again: not paused, and down to
    /// three quarters of both budgets. It then hands on until they are used up, so that samples
    /// reach JavaScript in batches rather than one per sample given back.
    fn has_low_room(&self, budget: usize, max_samples: usize) -> bool {
        !self.paused && self.queued <= budget / 4 * 3 && self.samples <= max_samples / 4 * 3
    }
}

impl Gate {
    /// Waits until `bytes` fit (a sample bigger than the whole budget passes alone); false once closed.
    fn acquire(&self, bytes: usize) -> bool {
        let mut s = lock(&self.state);
        loop {
            if s.closed {
                return false;
            }
            if s.fits(bytes, self.budget, self.max_samples) {
                s.queued += bytes;
                s.samples += 1;
                return true;
            }
            s = self.wait(s);
        }
    }

    /// Takes `bytes` if they fit now (same rule as `acquire`); never waits.
    fn try_acquire(&self, bytes: usize) -> bool {
        let mut s = lock(&self.state);
        if s.closed || !s.fits(bytes, self.budget, self.max_samples) {
            return false;
        }
        s.queued += bytes;
        s.samples += 1;
        true
    }

    /// Waits until receiving is not paused and the queue is down to three quarters of its
    /// budgets (`has_low_room`); false once closed.
    fn wait_low_room(&self) -> bool {
        let mut s = lock(&self.state);
        loop {
            if s.closed {
                return false;
            }
            if s.has_low_room(self.budget, self.max_samples) {
                return true;
            }
            s = self.wait(s);
        }
    }

    fn has_room(&self) -> bool {
        let s = lock(&self.state);
        !s.closed && s.has_room(self.budget, self.max_samples)
    }

    /// Takes `bytes` without waiting (after `wait_low_room`: a big sample may pass the budget alone).
    fn force_acquire(&self, bytes: usize) {
        let mut s = lock(&self.state);
        s.queued += bytes;
        s.samples += 1;
    }

    /// Gives back `samples` samples of `bytes` in all.
    fn release(&self, bytes: usize, samples: usize) {
        let mut s = lock(&self.state);
        s.queued = s.queued.saturating_sub(bytes);
        s.samples = s.samples.saturating_sub(samples);
        // Waiters wait for three quarters (the drainer) or for a sample to fit (a receive task
        // without a spill file), neither of which the budgets above three quarters give: no
        // wake-up per sample let go while the daemon works through a full buffer.
        let wake = s.waiting > 0 && (s.samples == 0 || s.has_low_room(self.budget, self.max_samples));
        drop(s);
        if wake {
            self.room.notify_all();
        }
    }

    /// Waits on `room`, counted in `waiting`.
    fn wait<'a>(&self, mut s: MutexGuard<'a, GateState>) -> MutexGuard<'a, GateState> {
        s.waiting += 1;
        let mut s = self.room.wait(s).unwrap_or_else(|e| e.into_inner());
        s.waiting -= 1;
        s
    }

    fn set_paused(&self, paused: bool) {
        lock(&self.state).paused = paused;
        self.room.notify_all();
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.room.notify_all();
    }

    fn queued(&self) -> (usize, usize) {
        let s = lock(&self.state);
        (s.queued, s.samples)
    }
}

type SampleFn = ThreadsafeFunction<SampleMsg, ErrorStrategy::Fatal>;

/// Samples that found the queue full or paused, in an unlinked file, oldest first.
struct Spill {
    state: Mutex<SpillState>,
    /// Wakes the drainer when a record is written.
    written: Condvar,
    /// Wakes receive tasks waiting for the file to shrink, after each record read back.
    drained: Condvar,
    folder: Option<PathBuf>,
    limit: u64,
}

#[derive(Default)]
struct SpillState {
    file: Option<File>,
    /// Logical end of the records (the file, then `wbuf`).
    write_pos: u64,
    /// Where the oldest record not yet read back starts.
    read_pos: u64,
    /// Bytes of the logical stream that are in the file; `wbuf` holds `flushed..write_pos`.
    flushed: u64,
    /// Small records not written to the file yet: most spills are short, and are read back
    /// from here without a system call.
    wbuf: Vec<u8>,
    /// Read-ahead from the file, covering `rbuf_pos..rbuf_pos + rbuf.len()`.
    rbuf: Vec<u8>,
    rbuf_pos: u64,
    records: u64,
    /// Each subscriber's function, for the drainer.
    targets: HashMap<u32, SampleFn>,
    /// Why the last write failed; spilling stays off after that (samples wait for room).
    failed: Option<String>,
    spilled_total: u64,
    drainer: bool,
    closed: bool,
}

/// A spill record: subscriber id (u32), DELETE (u8), receive time (f64 ms), key length (u32),
/// payload length (u64), all little-endian, then the key and the payload.
const RECORD_HEADER: usize = 4 + 1 + 8 + 4 + 8;
/// Records up to this size are gathered in memory and written to the file together.
const SPILL_INLINE_BYTES: usize = 16 * 1024;
/// The most gathered before they are written (one system call).
const SPILL_WBUF_BYTES: usize = 1 << 20;
/// Read-ahead when reading records back from the file.
const SPILL_RBUF_BYTES: usize = 256 * 1024;

impl Spill {
    fn lock(&self) -> MutexGuard<'_, SpillState> {
        lock(&self.state)
    }

    /// Appends one record; the caller holds the lock.
    fn append(&self, st: &mut SpillState, id: u32, msg: &SampleMsg) -> std::result::Result<(), String> {
        let folder = self.folder.as_ref().ok_or("no spill folder")?;
        if st.file.is_none() {
            std::fs::create_dir_all(folder).map_err(|e| format!("creating {}: {e}", folder.display()))?;
            let path = folder.join(format!(".heros-archiver-receive-spill.{}.{}", std::process::id(), now_ms() as u64));
            let file = OpenOptions::new().read(true).write(true).create_new(true).open(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
            // Unlinked at once: the space is freed when the file is closed, also after a crash.
            let _ = std::fs::remove_file(&path);
            st.file = Some(file);
        }
        let size = RECORD_HEADER + msg.key.len() + msg.payload.len();
        // Small records are gathered in memory (a copy is cheaper than a system call); large
        // ones go to the file after what was gathered, without a copy.
        let inline = size <= SPILL_INLINE_BYTES;
        if !inline || st.wbuf.len() + size > SPILL_WBUF_BYTES {
            Spill::flush(st)?;
        }
        let mut head = Vec::with_capacity(RECORD_HEADER + msg.key.len());
        head.extend_from_slice(&id.to_le_bytes());
        head.push(msg.delete as u8);
        head.extend_from_slice(&msg.received_ms.to_le_bytes());
        head.extend_from_slice(&(msg.key.len() as u32).to_le_bytes());
        head.extend_from_slice(&(msg.payload.len() as u64).to_le_bytes());
        head.extend_from_slice(msg.key.as_bytes());
        if inline {
            st.wbuf.extend_from_slice(&head);
            st.wbuf.extend_from_slice(&msg.payload);
        } else {
            let file = st.file.as_ref().ok_or("no spill file")?;
            file.write_all_at(&head, st.flushed).map_err(|e| format!("writing the receive spill file: {e}"))?;
            file.write_all_at(&msg.payload, st.flushed + head.len() as u64).map_err(|e| format!("writing the receive spill file: {e}"))?;
            st.flushed += size as u64;
        }
        st.write_pos += size as u64;
        st.records += 1;
        st.spilled_total += 1;
        Ok(())
    }

    /// Writes the gathered records to the file (those already read back are skipped).
    fn flush(st: &mut SpillState) -> std::result::Result<(), String> {
        if st.wbuf.is_empty() {
            return Ok(());
        }
        let skip = (st.read_pos.saturating_sub(st.flushed) as usize).min(st.wbuf.len());
        let file = st.file.as_ref().ok_or("no spill file")?;
        file.write_all_at(&st.wbuf[skip..], st.flushed + skip as u64).map_err(|e| format!("writing the receive spill file: {e}"))?;
        st.flushed += st.wbuf.len() as u64;
        st.wbuf.clear();
        Ok(())
    }

    /// Fills `out` with the stream's bytes at `pos` (one record's part: all in the file, or all gathered).
    fn fetch(st: &mut SpillState, pos: u64, out: &mut [u8]) -> std::result::Result<(), String> {
        let n = out.len();
        if pos >= st.flushed {
            let at = (pos - st.flushed) as usize;
            let src = st.wbuf.get(at..at + n).ok_or("a spilled record is cut short")?;
            out.copy_from_slice(src);
            return Ok(());
        }
        let in_rbuf = pos >= st.rbuf_pos && pos + n as u64 <= st.rbuf_pos + st.rbuf.len() as u64;
        if !in_rbuf {
            let file = st.file.as_ref().ok_or("no spill file")?;
            if n >= SPILL_RBUF_BYTES {
                return file.read_exact_at(out, pos).map_err(|e| format!("reading the receive spill file: {e}"));
            }
            let len = (st.flushed - pos).min(SPILL_RBUF_BYTES as u64) as usize;
            st.rbuf.resize(len, 0);
            st.rbuf_pos = pos;
            file.read_exact_at(&mut st.rbuf[..len], pos).map_err(|e| format!("reading the receive spill file: {e}"))?;
        }
        let at = (pos - st.rbuf_pos) as usize;
        let src = st.rbuf.get(at..at + n).ok_or("a spilled record is cut short")?;
        out.copy_from_slice(src);
        Ok(())
    }

    /// Reads the oldest record; the caller holds the lock.
    fn read(st: &mut SpillState) -> std::result::Result<(u32, bool, f64, String, Vec<u8>), String> {
        let mut head = [0u8; RECORD_HEADER];
        let pos = st.read_pos;
        Spill::fetch(st, pos, &mut head)?;
        let id = u32::from_le_bytes(head[0..4].try_into().unwrap_or_default());
        let delete = head[4] != 0;
        let received_ms = f64::from_le_bytes(head[5..13].try_into().unwrap_or_default());
        let key_len = u32::from_le_bytes(head[13..17].try_into().unwrap_or_default()) as usize;
        let payload_len = u64::from_le_bytes(head[17..25].try_into().unwrap_or_default()) as usize;
        let mut key = vec![0u8; key_len];
        Spill::fetch(st, pos + RECORD_HEADER as u64, &mut key)?;
        let mut payload = vec![0u8; payload_len];
        Spill::fetch(st, pos + (RECORD_HEADER + key_len) as u64, &mut payload)?;
        let key = String::from_utf8(key).map_err(|e| format!("a spilled key is not UTF-8: {e}"))?;
        st.read_pos += (RECORD_HEADER + key_len + payload_len) as u64;
        st.records -= 1;
        if st.records == 0 {
            // Empty again: start over at the beginning, giving the space back.
            if st.flushed > 0 {
                if let Some(file) = st.file.as_ref() {
                    let _ = file.set_len(0);
                }
            }
            st.reset();
        }
        Ok((id, delete, received_ms, key, payload))
    }
}

impl SpillState {
    /// Positions back to the start, nothing gathered or read ahead.
    fn reset(&mut self) {
        self.records = 0;
        self.read_pos = 0;
        self.write_pos = 0;
        self.flushed = 0;
        self.wbuf.clear();
        self.rbuf.clear();
        self.rbuf_pos = 0;
    }
}

/// Hands spilled samples on, oldest first, whenever the queue has room. One per session.
fn drain(spill: Arc<Spill>, gate: Arc<Gate>) {
    // Whether there was room at the last look: hands on until the budgets are used up, then
    // waits until they are down to three quarters.
    let mut room = false;
    loop {
        if !room {
            if !gate.wait_low_room() {
                return;
            }
            room = true;
        }
        let mut st = spill.lock();
        while st.records == 0 && !st.closed {
            st = spill.written.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if st.closed {
            return;
        }
        if !gate.has_room() {
            // Paused, or the budgets used up: wait for room again.
            room = false;
            continue;
        }
        match Spill::read(&mut st) {
            Ok((id, delete, received_ms, key, payload)) => {
                let cost = sample_cost(&key, &payload);
                gate.force_acquire(cost);
                let msg = SampleMsg { key, payload, delete, received_ms, cost };
                // Under the lock, so that a sample delivered directly cannot overtake it.
                let delivered = st.targets.get(&id).map(|f| f.call(msg, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok);
                if delivered != Some(true) {
                    gate.release(cost, 1);
                }
                spill.drained.notify_all();
            }
            Err(err) => {
                // A spill file that cannot be read back: what it holds is lost; say so, start over.
                st.failed = Some(err);
                st.reset();
                st.file = None;
                spill.drained.notify_all();
            }
        }
    }
}

/// What a sample counts against the gate's byte budget: its key and payload, and some overhead.
fn sample_cost(key: &str, payload: &[u8]) -> usize {
    payload.len() + key.len() + 64
}

struct SampleMsg {
    key: String,
    payload: Vec<u8>,
    delete: bool,
    received_ms: f64,
    cost: usize,
}

struct QueryMsg {
    id: u32,
    key: String,
    payload: Option<Vec<u8>>,
}

struct Inner {
    session: Mutex<Option<Session>>,
    gate: Arc<Gate>,
    spill: Arc<Spill>,
    next_id: AtomicU32,
    subscribers: Mutex<HashMap<u32, Subscriber<()>>>,
    queryables: Mutex<HashMap<u32, Queryable<()>>>,
    tokens: Mutex<HashMap<u32, LivelinessToken>>,
    queries: Arc<Mutex<HashMap<u32, Query>>>,
}

impl Inner {
    fn session(&self) -> std::result::Result<Session, String> {
        lock(&self.session).clone().ok_or_else(|| "the Zenoh session is not open".to_string())
    }

    /// Runs `f` on the open query `id` (a reply or an error reply).
    fn with_query(&self, id: u32, f: impl FnOnce(&Query) -> std::result::Result<(), String>) -> std::result::Result<(), String> {
        let queries = lock(&self.queries);
        let query = queries.get(&id).ok_or_else(|| format!("query {id} is gone"))?;
        f(query)
    }

    fn id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

type JobFn = Box<dyn FnOnce() -> std::result::Result<u32, String> + Send>;

/// Runs one blocking Zenoh call on the libuv thread pool; resolves with a number (an id, or 0).
pub struct Job(Option<JobFn>);

impl Task for Job {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<u32> {
        let f = self.0.take().ok_or_else(|| Error::from_reason("job ran twice"))?;
        f().map_err(Error::from_reason)
    }

    fn resolve(&mut self, _env: Env, output: u32) -> Result<u32> {
        Ok(output)
    }
}

fn job(f: impl FnOnce() -> std::result::Result<u32, String> + Send + 'static) -> AsyncTask<Job> {
    AsyncTask::new(Job(Some(Box::new(f))))
}

fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

fn encoding_of(encoding: Option<String>) -> Option<Encoding> {
    encoding.filter(|e| !e.is_empty()).map(Encoding::from)
}

/// One Zenoh session. Create, `open()`, declare, and `close()` once done.
#[napi]
pub struct NativeSession {
    inner: Arc<Inner>,
}

#[napi]
impl NativeSession {
    /// `maxQueuedBytes` and `maxQueuedSamples`: the budgets of samples handed to JavaScript and
    /// not yet released; `spillFolder` (none: no spilling) and `spillLimitBytes`: where and how
    /// much of the rest goes to disk.
    #[napi(constructor)]
    pub fn new(max_queued_bytes: f64, spill_folder: Option<String>, spill_limit_bytes: f64, max_queued_samples: Option<f64>) -> Self {
        let budget = if max_queued_bytes.is_finite() && max_queued_bytes >= 1.0 { max_queued_bytes as usize } else { 64 << 20 };
        let max_samples = match max_queued_samples {
            Some(n) if n.is_finite() && n >= 1.0 => n as usize,
            _ => usize::MAX,
        };
        let limit = if spill_limit_bytes.is_finite() && spill_limit_bytes >= 0.0 { spill_limit_bytes as u64 } else { 4 << 30 };
        NativeSession {
            inner: Arc::new(Inner {
                session: Mutex::new(None),
                gate: Arc::new(Gate { state: Mutex::new(GateState { queued: 0, samples: 0, paused: false, closed: false, waiting: 0 }), room: Condvar::new(), budget, max_samples }),
                spill: Arc::new(Spill { state: Mutex::new(SpillState::default()), written: Condvar::new(), drained: Condvar::new(), folder: spill_folder.filter(|f| !f.is_empty()).map(PathBuf::from), limit }),
                next_id: AtomicU32::new(1),
                subscribers: Mutex::new(HashMap::new()),
                queryables: Mutex::new(HashMap::new()),
                tokens: Mutex::new(HashMap::new()),
                queries: Arc::new(Mutex::new(HashMap::new())),
            }),
        }
    }

    /// Opens the session from an optional JSON5 file, then `keys[i]` set to the JSON5 `values[i]`.
    #[napi]
    pub fn open(&self, config_file: Option<String>, keys: Vec<String>, values: Vec<String>) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            let mut config = match &config_file {
                Some(file) => Config::from_file(file).map_err(|e| format!("reading the Zenoh configuration {file}: {e}"))?,
                None => Config::default(),
            };
            for (key, value) in keys.iter().zip(values.iter()) {
                config.insert_json5(key, value).map_err(|e| format!("Zenoh setting {key}={value}: {e}"))?;
            }
            let session = zenoh::open(config).wait().map_err(|e| format!("opening the Zenoh session: {e}"))?;
            *lock(&inner.session) = Some(session);
            Ok(0)
        })
    }

    /// This session's Zenoh id.
    #[napi]
    pub fn zid(&self) -> Result<String> {
        let session = self.inner.session().map_err(Error::from_reason)?;
        Ok(session.zid().to_string())
    }

    /// Zenoh ids of the peers and routers this session is connected to.
    #[napi]
    pub fn connected(&self) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            let session = inner.session()?;
            let info = session.info();
            let n = info.peers_zid().wait().count() + info.routers_zid().wait().count();
            Ok(n as u32)
        })
    }

    /// Subscribes: `callback(key, payload, isDelete, receivedAtMs, cost)` for each sample, which
    /// JavaScript gives back with `release(cost, 1)` once done with it. Resolves with an id.
    #[napi]
    pub fn subscribe(&self, env: Env, key: String, callback: JsFunction) -> Result<AsyncTask<Job>> {
        let mut tsfn: ThreadsafeFunction<SampleMsg, ErrorStrategy::Fatal> =
            callback.create_threadsafe_function(0, |ctx: ThreadSafeCallContext<SampleMsg>| {
                // JavaScript gives the sample's place in the gate back (`release`) once done with it.
                let SampleMsg { key, payload, delete, received_ms, cost } = ctx.value;
                let env = ctx.env;
                let args: Vec<JsUnknown> = vec![
                    env.create_string_from_std(key)?.into_unknown(),
                    env.create_buffer_with_data(payload)?.into_raw().into_unknown(),
                    env.get_boolean(delete)?.into_unknown(),
                    env.create_double(received_ms)?.into_unknown(),
                    env.create_double(cost as f64)?.into_unknown(),
                ];
                Ok(args)
            })?;
        tsfn.unref(&env)?;
        let inner = self.inner.clone();
        Ok(job(move || {
            let session = inner.session()?;
            let gate = inner.gate.clone();
            let spill = inner.spill.clone();
            let id = inner.id();
            spill.lock().targets.insert(id, tsfn.clone());
            let declared = session
                .declare_subscriber(key.as_str())
                .callback(move |sample| {
                    let received_ms = now_ms();
                    let payload = sample.payload().to_bytes().into_owned();
                    let key = sample.key_expr().as_str().to_string();
                    let cost = sample_cost(&key, &payload);
                    let delete = sample.kind() == SampleKind::Delete;
                    let msg = SampleMsg { key, payload, delete, received_ms, cost };
                    deliver(&spill, &gate, id, &tsfn, msg);
                })
                .wait();
            let subscriber = match declared {
                Ok(subscriber) => subscriber,
                Err(e) => {
                    inner.spill.lock().targets.remove(&id);
                    return Err(format!("declaring a subscriber on {key}: {e}"));
                }
            };
            lock(&inner.subscribers).insert(id, subscriber);
            Ok(id)
        }))
    }

    #[napi]
    pub fn unsubscribe(&self, id: u32) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            let subscriber = lock(&inner.subscribers).remove(&id);
            inner.spill.lock().targets.remove(&id);
            if let Some(subscriber) = subscriber {
                subscriber.undeclare().wait().map_err(|e| format!("undeclaring a subscriber: {e}"))?;
            }
            Ok(0)
        })
    }

    /// Declares a queryable: `callback(queryId, key, payload | null)` for each query, which must
    /// end with `finalizeQuery(queryId)` (after `reply`/`replyErr`). Resolves with an id.
    #[napi]
    pub fn declare_queryable(&self, env: Env, key: String, callback: JsFunction) -> Result<AsyncTask<Job>> {
        let mut tsfn: ThreadsafeFunction<QueryMsg, ErrorStrategy::Fatal> =
            callback.create_threadsafe_function(0, |ctx: ThreadSafeCallContext<QueryMsg>| {
                let QueryMsg { id, key, payload } = ctx.value;
                let env = ctx.env;
                let payload = match payload {
                    Some(bytes) => env.create_buffer_with_data(bytes)?.into_raw().into_unknown(),
                    None => env.get_null()?.into_unknown(),
                };
                Ok(vec![env.create_uint32(id)?.into_unknown(), env.create_string_from_std(key)?.into_unknown(), payload])
            })?;
        tsfn.unref(&env)?;
        let inner = self.inner.clone();
        Ok(job(move || {
            let session = inner.session()?;
            let queries = inner.queries.clone();
            let ids = inner.clone();
            let queryable = session
                .declare_queryable(key.as_str())
                .callback(move |query: Query| {
                    let id = ids.id();
                    let msg = QueryMsg { id, key: query.key_expr().as_str().to_string(), payload: query.payload().map(|p| p.to_bytes().into_owned()) };
                    lock(&queries).insert(id, query);
                    if tsfn.call(msg, ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
                        // Dropping the query finalises it: the querier gets no reply instead of waiting.
                        lock(&queries).remove(&id);
                    }
                })
                .wait()
                .map_err(|e| format!("declaring a queryable on {key}: {e}"))?;
            let id = inner.id();
            lock(&inner.queryables).insert(id, queryable);
            Ok(id)
        }))
    }

    #[napi]
    pub fn undeclare_queryable(&self, id: u32) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            let queryable = lock(&inner.queryables).remove(&id);
            if let Some(queryable) = queryable {
                queryable.undeclare().wait().map_err(|e| format!("undeclaring a queryable: {e}"))?;
            }
            Ok(0)
        })
    }

    /// Replies to a query on `key` (the query stays open until `finalizeQuery`).
    #[napi]
    pub fn reply(&self, query_id: u32, key: String, payload: Buffer, encoding: Option<String>) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        let payload: Vec<u8> = payload.to_vec();
        job(move || {
            inner.with_query(query_id, |query| {
                let mut builder = query.reply(key.as_str(), payload);
                if let Some(encoding) = encoding_of(encoding) {
                    builder = builder.encoding(encoding);
                }
                builder.wait().map_err(|e| format!("replying on {key}: {e}"))
            })?;
            Ok(0)
        })
    }

    /// Answers a query with an error reply.
    #[napi]
    pub fn reply_err(&self, query_id: u32, payload: Buffer, encoding: Option<String>) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        let payload: Vec<u8> = payload.to_vec();
        job(move || {
            inner.with_query(query_id, |query| {
                let mut builder = query.reply_err(payload);
                if let Some(encoding) = encoding_of(encoding) {
                    builder = builder.encoding(encoding);
                }
                builder.wait().map_err(|e| format!("sending an error reply: {e}"))
            })?;
            Ok(0)
        })
    }

    /// Ends a query: the querier learns that no more replies come.
    #[napi]
    pub fn finalize_query(&self, query_id: u32) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            let query = lock(&inner.queries).remove(&query_id);
            drop(query);
            Ok(0)
        })
    }

    #[napi]
    pub fn declare_token(&self, key: String) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            let session = inner.session()?;
            let token = session.liveliness().declare_token(key.as_str()).wait().map_err(|e| format!("declaring a liveliness token on {key}: {e}"))?;
            let id = inner.id();
            lock(&inner.tokens).insert(id, token);
            Ok(id)
        })
    }

    #[napi]
    pub fn undeclare_token(&self, id: u32) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            let token = lock(&inner.tokens).remove(&id);
            if let Some(token) = token {
                token.undeclare().wait().map_err(|e| format!("undeclaring a liveliness token: {e}"))?;
            }
            Ok(0)
        })
    }

    /// Publishes `payload` on `key`; with `block`, waits for room in the links' queues instead of
    /// dropping (Zenoh's "block" congestion control; the default is "drop").
    #[napi]
    pub fn put(&self, key: String, payload: Buffer, encoding: Option<String>, block: Option<bool>) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        let payload: Vec<u8> = payload.to_vec();
        job(move || {
            let session = inner.session()?;
            let mut builder = session.put(key.as_str(), payload);
            if let Some(encoding) = encoding_of(encoding) {
                builder = builder.encoding(encoding);
            }
            if block == Some(true) {
                builder = builder.congestion_control(CongestionControl::Block);
            }
            builder.wait().map_err(|e| format!("publishing on {key}: {e}"))?;
            Ok(0)
        })
    }

    /// Stops (true) or resumes (false) taking samples from Zenoh.
    #[napi]
    pub fn set_paused(&self, paused: bool) {
        self.inner.gate.set_paused(paused);
    }

    /// Bytes of samples handed to JavaScript and not yet released.
    #[napi]
    pub fn queued_bytes(&self) -> f64 {
        self.inner.gate.queued().0 as f64
    }

    /// Samples handed to JavaScript and not yet released.
    #[napi]
    pub fn queued_samples(&self) -> f64 {
        self.inner.gate.queued().1 as f64
    }

    /// Gives back `samples` samples of `bytes` in all (their `cost`s) that JavaScript is done with.
    #[napi]
    pub fn release(&self, bytes: f64, samples: u32) {
        self.inner.gate.release(bytes as usize, samples as usize);
    }

    /// Bytes waiting in the spill file.
    #[napi]
    pub fn spilled_bytes(&self) -> f64 {
        let st = self.inner.spill.lock();
        (st.write_pos - st.read_pos) as f64
    }

    /// Samples that went through the spill file since the session was created.
    #[napi]
    pub fn spilled_total(&self) -> f64 {
        self.inner.spill.lock().spilled_total as f64
    }

    /// Why spilling stopped working (the receive then waits for room), once; null otherwise.
    #[napi]
    pub fn take_spill_error(&self) -> Option<String> {
        self.inner.spill.lock().failed.take()
    }

    /// Undeclares everything (queryables first, liveliness tokens last) and closes the session.
    #[napi]
    pub fn close(&self) -> AsyncTask<Job> {
        let inner = self.inner.clone();
        job(move || {
            inner.gate.close();
            {
                let mut st = inner.spill.lock();
                st.closed = true;
                st.targets.clear();
                st.file = None;
            }
            inner.spill.written.notify_all();
            inner.spill.drained.notify_all();
            let queryables: Vec<_> = lock(&inner.queryables).drain().map(|(_, q)| q).collect();
            let subscribers: Vec<_> = lock(&inner.subscribers).drain().map(|(_, s)| s).collect();
            let tokens: Vec<_> = lock(&inner.tokens).drain().map(|(_, t)| t).collect();
            for queryable in queryables {
                let _ = queryable.undeclare().wait();
            }
            lock(&inner.queries).clear();
            for subscriber in subscribers {
                let _ = subscriber.undeclare().wait();
            }
            for token in tokens {
                let _ = token.undeclare().wait();
            }
            let session = lock(&inner.session).take();
            if let Some(session) = session {
                session.close().wait().map_err(|e| format!("closing the Zenoh session: {e}"))?;
            }
            Ok(0)
        })
    }
}

/// Hands `msg` to JavaScript now if nothing is spilled and the queue has room; else spills it;
/// else (no spill folder, the file at its limit, a write failed) waits, holding Zenoh's receive
/// task: for the drainer while spilled samples remain (so as not to overtake them), then for
/// room in the queue.
fn deliver(spill: &Arc<Spill>, gate: &Arc<Gate>, id: u32, tsfn: &SampleFn, msg: SampleMsg) {
    let mut st = spill.lock();
    loop {
        if st.closed {
            return;
        }
        if st.records == 0 && gate.try_acquire(msg.cost) {
            drop(st);
            let cost = msg.cost;
            if tsfn.call(msg, ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
                gate.release(cost, 1);
            }
            return;
        }
        let size = (RECORD_HEADER + msg.key.len() + msg.payload.len()) as u64;
        // The limit is on the file's size: space read back is given back only when the file
        // empties, so under a backlog that never clears the file would otherwise keep growing.
        if spill.folder.is_some() && st.failed.is_none() && st.write_pos + size <= spill.limit {
            match spill.append(&mut st, id, &msg) {
                Ok(()) => {
                    if !st.drainer {
                        st.drainer = true;
                        let (s, g) = (spill.clone(), gate.clone());
                        std::thread::Builder::new().name("receive-spill".into()).spawn(move || drain(s, g)).ok();
                    }
                    drop(st);
                    spill.written.notify_all();
                    return;
                }
                Err(err) => {
                    st.failed = Some(err);
                    continue;
                }
            }
        }
        if st.records == 0 {
            drop(st);
            let cost = msg.cost;
            if gate.acquire(cost) && tsfn.call(msg, ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
                gate.release(cost, 1);
            }
            return;
        }
        st = spill.drained.wait_timeout(st, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
    }
}
