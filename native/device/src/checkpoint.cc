// The checkpoint/restore engine (see checkpoint.h for the protocol). Over 600 lines: one state
// machine per chunk shared by the copier, the launch path, the host path and the loader.
#include "checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "clock.h"

namespace xdev {

uint32_t crc32_of(const uint8_t* p, size_t n) {
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt k = uInt(std::min<size_t>(n, size_t(1) << 30));
    c = crc32(c, p, k);
    p += k;
    n -= k;
  }
  return uint32_t(c);
}

namespace {
class BackendMover final : public ChunkMover {
 public:
  explicit BackendMover(Backend& b) : b_(b) {}
  void save(uint8_t* host, const uint8_t* dev, size_t n) override { b_.to_host(host, dev, n); }
  void load(uint8_t* dev, const uint8_t* host, size_t n) override { b_.to_device(dev, host, n); }

 private:
  Backend& b_;
};

std::string errno_text() { return std::strerror(errno); }

bool read_all(int fd, uint8_t* p, size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t k = ::pread(fd, p, n, off_t(off));
    if (k <= 0) {
      if (k < 0 && errno == EINTR) continue;
      return false;
    }
    p += k, n -= size_t(k), off += uint64_t(k);
  }
  return true;
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += k, n -= size_t(k);
  }
  return true;
}
}  // namespace

std::unique_ptr<ChunkMover> backend_mover(Backend& b) { return std::make_unique<BackendMover>(b); }

struct Engine::Record {
  std::shared_ptr<Allocation> a;
  uint32_t slot = 0, gen = 0;
  size_t n = 0;  // chunks
  std::unique_ptr<std::atomic<uint32_t>[]> tag;  // epoch of the last write
  std::unique_ptr<std::atomic<uint8_t>[]> save, load;
  std::unique_ptr<std::atomic<int32_t>[]> pre;     // pre-cut launches yet to write it
  std::unique_ptr<std::atomic<int32_t>[]> pre_rd;  // pre-cut launches yet to read it
  std::unique_ptr<std::atomic<uint16_t>[]> copies;
  std::vector<std::unique_ptr<uint8_t[]>> staging;
  std::vector<uint8_t> saved_now;  // staging holds this epoch's copy
  std::vector<ChunkSource> src;
  Record(std::shared_ptr<Allocation> a_, size_t chunk, uint32_t tag0) : a(std::move(a_)), slot(a->index), gen(a->gen) {
    n = (a->bytes + chunk - 1) / chunk;
    tag.reset(new std::atomic<uint32_t>[n]);
    save.reset(new std::atomic<uint8_t>[n]);
    load.reset(new std::atomic<uint8_t>[n]);
    pre.reset(new std::atomic<int32_t>[n]);
    pre_rd.reset(new std::atomic<int32_t>[n]);
    copies.reset(new std::atomic<uint16_t>[n]);
    staging.resize(n);
    saved_now.assign(n, 0);
    for (size_t c = 0; c < n; ++c) tag[c] = tag0, save[c] = kClean, load[c] = kLoaded, pre[c] = 0, pre_rd[c] = 0, copies[c] = 0;
  }
  size_t len(size_t c, size_t chunk) const { return std::min(chunk, a->bytes - c * chunk); }
  uint8_t* at(size_t c, size_t chunk) const { return a->data + c * chunk; }
};

Engine::Engine(MemoryTable& mem, Scheduler& sched, size_t chunk_bytes)
    : mem_(mem), sched_(sched), mover_(backend_mover(mem.backend())), chunk_(chunk_bytes) {}

Engine::~Engine() { stop(); }

void Engine::stop() {
  stopping_ = true;
  notify();
  if (worker_.joinable()) worker_.join();
  if (loader_.joinable()) loader_.join();
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

void Engine::cleared() {
  stop();
  std::unique_lock<std::shared_mutex> lk(struct_m_);
  recs_.clear();  // drops the allocations and the staging
  by_slot_.clear();
}

void Engine::notify() {
  { std::lock_guard<std::mutex> lk(wait_m_); }
  wait_cv_.notify_all();
}

Engine::Record* Engine::find(uint32_t slot, uint32_t gen) const {
  if (slot >= by_slot_.size()) return nullptr;
  Record* r = by_slot_[slot];
  return r && r->gen == gen ? r : nullptr;
}

template <typename F>
void Engine::each_chunk(const Range& r, F f) const {
  if (r.end <= r.begin) return;
  Record* rec = find(r.slot, r.gen);
  if (!rec || rec->n == 0) return;
  const size_t last = std::min<size_t>(size_t((r.end - 1) / chunk_), rec->n - 1);
  for (size_t c = size_t(r.begin / chunk_); c <= last; ++c) f(*rec, c);
}

// ---- checkpoint ----

std::string Engine::begin(CkptMode mode, bool incremental, const std::string& path, EpochStart* out, uint32_t copier_delay_us) {
  if (stopping_) return "device is closed";
  {
    std::lock_guard<std::mutex> lk(wait_m_);
    if (writing_) return "checkpoint: the previous one is still being saved";
  }
  if (restoring_) return "checkpoint: a restore is still loading";
  if (worker_.joinable()) worker_.join();
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return "checkpoint: cannot create " + path + ": " + errno_text();
  const uint64_t t0 = now_ns();
  copier_delay_us_ = copier_delay_us;

  // The allocations as of now; records (and their write tags) carry over by identity.
  std::vector<SlotImage> slots;
  std::vector<std::shared_ptr<Allocation>> roots;
  mem_.slots(&slots, &roots);
  {
    std::unique_lock<std::shared_mutex> lk(struct_m_);
    std::vector<std::unique_ptr<Record>> next;
    std::vector<Record*> index(slots.empty() ? 0 : slots.back().index + 1, nullptr);
    for (auto& a : roots) {
      Record* old = find(a->index, a->gen);
      std::unique_ptr<Record> r;
      if (old && old->a == a) {
        for (auto& o : recs_)
          if (o.get() == old) r = std::move(o);
      } else {
        r = std::make_unique<Record>(a, chunk_, open_.load());  // new since the last epoch: all dirty
      }
      index[r->slot] = r.get();
      next.push_back(std::move(r));
    }
    recs_ = std::move(next);
    by_slot_ = std::move(index);
  }

  const uint32_t E = open_.load();
  const uint32_t parent = incremental ? committed_.load() : 0;
  const bool stw = mode == CkptMode::kStopTheWorld;
  uint64_t chunks = 0, bytes = 0;
  cow_chunks_ = copier_chunks_ = 0;
  cow_ns_ = 0;
  // Records are changed by this thread only, so they are read here without struct_m_ (the
  // scheduler lock is held inside cut; taking struct_m_ there would invert the lock order).
  sched_.cut(
      [&](uint64_t next_id) {
        for (auto& r : recs_)
          for (size_t c = 0; c < r->n; ++c) {
            const bool dirty = parent == 0 || r->tag[c].load() > parent;
            r->save[c] = dirty ? kNotSaved : kClean;
            r->pre[c] = 0;
            r->pre_rd[c] = 0;
            r->copies[c] = 0;
            r->saved_now[c] = 0;
            if (dirty) ++chunks, bytes += r->len(c, chunk_);
          }
        cut_id_ = next_id;
        epoch_ = E;
        open_ = E + 1;
        pre_pending_ = 0;
        frozen_ = stw;
        active_ = true;
      },
      [&](const Launch& l) {
        ++pre_pending_;
        const AccessSets& s = l.prep.d().sets;
        for (int w = 0; w < s.nw; ++w)
          each_chunk(s.writes[w], [&](Record& r, size_t c) {
            if (r.save[c] == kClean) r.save[c] = kNotSaved, ++chunks, bytes += r.len(c, chunk_);
            ++r.pre[c];
          });
        for (int i = 0; i < s.nr; ++i) each_chunk(s.reads[i], [&](Record& r, size_t c) { ++r.pre_rd[c]; });
      });

  result_ = EpochResult();
  result_.epoch = E;
  result_.parent = parent;
  result_.slots = std::move(slots);
  fd_ = fd;
  {
    std::lock_guard<std::mutex> lk(wait_m_);
    writing_ = true;
  }
  if (stw) {
    const uint64_t c0 = now_ns();
    {
      std::unique_lock<std::mutex> lk(wait_m_);
      wait_cv_.wait(lk, [&] { return pre_pending_.load() <= 0 || stopping_; });
    }
    {
      std::shared_lock<std::shared_mutex> lk(struct_m_);
      for (auto& r : recs_)
        for (size_t c = 0; c < r->n; ++c)
          if (r->save[c] == kNotSaved) save_chunk(*r, c), r->save[c] = kSaved, ++copier_chunks_;
    }
    result_.copy_us = double(now_ns() - c0) / 1000.0;
    active_ = false;
    frozen_ = false;
    sched_.wake();
  }
  out->epoch = E;
  out->parent = parent;
  out->chunks = chunks;
  out->bytes = bytes;
  out->pause_us = double(now_ns() - t0) / 1000.0;
  worker_ = std::thread([this, stw] {
    if (!stw) copier();
    write_file();
  });
  return "";
}

// Staging stays allocated between epochs: a periodic checkpoint copies into memory that is
// already mapped instead of faulting fresh pages in on the launch path.
void Engine::save_chunk(Record& r, size_t c) {
  const size_t n = r.len(c, chunk_);
  if (!r.staging[c]) r.staging[c].reset(new uint8_t[n]);
  mover_->save(r.staging[c].get(), r.at(c, chunk_), n);
  r.saved_now[c] = 1;
  ++r.copies[c];
}

// Walks the epoch's chunks in order; those a pre-cut launch still has to write wait.
void Engine::copier() {
  const uint64_t t0 = now_ns();
  {
    std::shared_lock<std::shared_mutex> lk(struct_m_);
    for (;;) {
      bool left = false;
      for (auto& r : recs_)
        for (size_t c = 0; c < r->n; ++c) {
          uint8_t s = r->save[c].load();
          if (s == kNotSaved) {
            if (r->pre[c].load() > 0) {
              left = true;
            } else if (r->save[c].compare_exchange_strong(s, kSaving)) {
              save_chunk(*r, c);
              r->save[c] = kSaved;
              ++copier_chunks_;
              notify();
              if (copier_delay_us_) std::this_thread::sleep_for(std::chrono::microseconds(copier_delay_us_));
            } else if (s != kSaved) {
              left = true;
            }
          } else if (s == kSaving) {
            left = true;
          }
        }
      if (!left || stopping_) break;
      std::unique_lock<std::mutex> w(wait_m_);
      wait_cv_.wait_for(w, std::chrono::milliseconds(1));
    }
  }
  result_.copy_us = double(now_ns() - t0) / 1000.0;
  active_ = false;
  sched_.wake();
}

void Engine::write_file() {
  const uint64_t t0 = now_ns();
  std::string err;
  std::vector<SavedChunk> saved;
  uint64_t off = 0, maxc = 0;
  {
    std::shared_lock<std::shared_mutex> lk(struct_m_);
    for (auto& r : recs_)
      for (size_t c = 0; c < r->n; ++c) {
        if (r->save[c] != kSaved) continue;
        maxc = std::max<uint64_t>(maxc, r->copies[c]);
        const size_t n = r->len(c, chunk_);
        uint8_t* p = r->saved_now[c] ? r->staging[c].get() : nullptr;
        if (err.empty() && p) {
          if (!write_all(fd_, p, n)) err = "checkpoint: writing the chunk file failed: " + errno_text();
          saved.push_back(SavedChunk{r->slot, uint32_t(c), off, n, crc32_of(p, n)});
          off += n;
        }
        if (!p && err.empty()) err = "checkpoint: stopped before every chunk was saved";
      }
  }
  if (err.empty() && ::fsync(fd_) != 0) err = "checkpoint: fsync of the chunk file failed: " + errno_text();
  ::close(fd_);
  fd_ = -1;
  {
    std::lock_guard<std::mutex> lk(stats_m_);
    ++st_.epochs;
    st_.cow_chunks += cow_chunks_;
    st_.copier_chunks += copier_chunks_;
    st_.cow_us += double(cow_ns_) / 1000.0;
  }
  std::lock_guard<std::mutex> lk(wait_m_);
  result_.saved = std::move(saved);
  result_.error = err;
  result_.write_us = double(now_ns() - t0) / 1000.0;
  result_.cow_chunks = cow_chunks_;
  result_.copier_chunks = copier_chunks_;
  result_.cow_us = double(cow_ns_) / 1000.0;
  result_.max_copies = maxc;
  writing_ = false;
  wait_cv_.notify_all();
}

void Engine::wait_epoch(EpochResult* out) {
  std::unique_lock<std::mutex> lk(wait_m_);
  wait_cv_.wait(lk, [&] { return !writing_; });
  *out = result_;
}

void Engine::commit(uint64_t epoch) {
  if (epoch > committed_) committed_ = uint32_t(epoch);
}

// A post-cut writer saves the chunk first, or waits while another saves it.
void Engine::cow(Record& r, size_t c) {
  uint8_t s = r.save[c].load();
  if (s == kClean || s == kSaved) return;
  const uint64_t t0 = now_ns();
  if (s == kNotSaved && r.save[c].compare_exchange_strong(s, kSaving)) {
    save_chunk(r, c);
    r.save[c] = kSaved;
    ++cow_chunks_;
    notify();
  } else {
    std::unique_lock<std::mutex> lk(wait_m_);
    wait_cv_.wait(lk, [&] { return r.save[c].load() == kSaved || stopping_; });
  }
  cow_ns_ += now_ns() - t0;
}

bool Engine::may_start(const Launch& l) {
  if (!active_.load() || l.id < cut_id_.load()) return true;
  if (frozen_.load()) return false;
  std::shared_lock<std::shared_mutex> lk(struct_m_);
  const AccessSets& s = l.prep.d().sets;
  bool ok = true;
  for (int w = 0; w < s.nw && ok; ++w)
    each_chunk(s.writes[w], [&](Record& r, size_t c) {
      // Not before pre-cut launches wrote it (the image needs their bytes) or read it (they
      // must not see a post-cut write).
      if ((r.save[c].load() == kNotSaved && r.pre[c].load() > 0) || r.pre_rd[c].load() > 0) ok = false;
    });
  return ok;
}

void Engine::before_run(const Launch& l) {
  const bool restoring = restoring_.load();
  const bool active = active_.load();
  std::shared_lock<std::shared_mutex> lk(struct_m_);
  const AccessSets& s = l.prep.d().sets;
  if (restoring) {
    auto need = [&](Record& r, size_t c) { ensure_loaded(r, c, false); };
    for (int i = 0; i < s.nr; ++i) each_chunk(s.reads[i], need);
    for (int i = 0; i < s.nw; ++i) each_chunk(s.writes[i], need);
  }
  const bool post = active && l.id >= cut_id_.load();
  const uint32_t tag = active && !post ? epoch_.load() : open_.load();
  for (int w = 0; w < s.nw; ++w)
    each_chunk(s.writes[w], [&](Record& r, size_t c) {
      uint32_t t = r.tag[c].load();
      while (t < tag && !r.tag[c].compare_exchange_weak(t, tag)) {
      }
      if (post) cow(r, c);
    });
}

void Engine::finished(const Launch& l) {
  if (!active_.load() || l.id >= cut_id_.load()) return;
  {
    std::shared_lock<std::shared_mutex> lk(struct_m_);
    const AccessSets& s = l.prep.d().sets;
    for (int w = 0; w < s.nw; ++w) each_chunk(s.writes[w], [&](Record& r, size_t c) { --r.pre[c]; });
    for (int i = 0; i < s.nr; ++i) each_chunk(s.reads[i], [&](Record& r, size_t c) { --r.pre_rd[c]; });
  }
  --pre_pending_;
  notify();
}

void Engine::before_host_access(const Resolved& res, size_t offset, size_t n, bool write) {
  if (!restoring_.load() && !write) return;
  std::shared_lock<std::shared_mutex> lk(struct_m_);
  Range rg{0, res.root->index, res.root->gen, res.base + offset, res.base + offset + n, -1};
  each_chunk(rg, [&](Record& r, size_t c) {
    if (restoring_.load() && r.load[c].load() != kLoaded) {
      ensure_loaded(r, c, false);
      std::lock_guard<std::mutex> s(stats_m_);
      ++st_.host_loads;
    }
    if (!write) return;
    uint32_t t = r.tag[c].load();
    while (t < open_.load() && !r.tag[c].compare_exchange_weak(t, open_.load())) {
    }
    if (!active_.load()) return;
    // A host write is post-cut: it waits for pre-cut launches touching the chunk, then saves it.
    {
      std::unique_lock<std::mutex> w(wait_m_);
      wait_cv_.wait(w, [&] { return (r.pre[c].load() <= 0 && r.pre_rd[c].load() <= 0) || stopping_; });
    }
    cow(r, c);
  });
}

// ---- restore ----

std::string Engine::restore(RestorePlan&& plan, double* metadata_us) {
  if (stopping_) return "device is closed";
  {
    std::lock_guard<std::mutex> lk(wait_m_);
    if (writing_) return "restore: a checkpoint is being saved";
  }
  if (restoring_) return "restore: a restore is still loading";
  if (loader_.joinable()) loader_.join();
  const uint64_t t0 = now_ns();
  // Everything is checked before anything changes: a refused restore leaves the device as it was.
  std::vector<int> fds;
  auto refuse = [&](const std::string& why) {
    for (int fd : fds) ::close(fd);
    return "restore: " + why;
  };
  std::vector<uint64_t> sizes;
  for (const auto& f : plan.files) {
    int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return refuse("cannot open chunk file " + f + ": " + errno_text());
    fds.push_back(fd);
    struct stat sb;
    if (::fstat(fd, &sb) != 0) return refuse("cannot stat " + f);
    sizes.push_back(uint64_t(sb.st_size));
  }
  size_t root = 0;
  for (const auto& im : plan.slots) {
    if (im.is_view) continue;
    if (root >= plan.chunks.size()) return refuse("the chunk table lists fewer buffers than the manifest");
    const auto& cs = plan.chunks[root++];
    const size_t n = (im.bytes + chunk_ - 1) / chunk_;
    if (cs.size() != n) return refuse("buffer " + std::to_string(im.index) + ": chunk count differs from its size");
    for (size_t c = 0; c < n; ++c) {
      const ChunkSource& s = cs[c];
      const uint64_t want = std::min<uint64_t>(chunk_, im.bytes - c * chunk_);
      if (s.len != want) return refuse("buffer " + std::to_string(im.index) + ": chunk " + std::to_string(c) + " has the wrong length");
      if (s.file >= fds.size() || s.offset + s.len > sizes[s.file])
        return refuse("chunk file " + (s.file < plan.files.size() ? plan.files[s.file] : std::string("?")) + " is truncated");
    }
  }
  if (root != plan.chunks.size()) return refuse("the chunk table lists more buffers than the manifest");
  if (plan.verify) {
    std::vector<uint8_t> buf;
    root = 0;
    for (const auto& im : plan.slots) {
      if (im.is_view) continue;
      const auto& cs = plan.chunks[root++];
      for (size_t c = 0; c < cs.size(); ++c) {
        buf.resize(cs[c].len);
        if (!read_all(fds[cs[c].file], buf.data(), buf.size(), cs[c].offset)) return refuse("reading " + plan.files[cs[c].file] + " failed");
        if (crc32_of(buf.data(), buf.size()) != cs[c].crc)
          return refuse("checksum mismatch in chunk " + std::to_string(c) + " of buffer " + std::to_string(im.index) + " (" +
                        plan.files[cs[c].file] + ")");
      }
    }
  }
  std::vector<std::shared_ptr<Allocation>> roots;
  std::string err = mem_.adopt(plan.slots, &roots);
  const std::vector<SlotImage> slots_kept = plan.slots;
  if (!err.empty()) return refuse(err.substr(err.find(": ") + 2));

  {
    std::unique_lock<std::shared_mutex> lk(struct_m_);
    recs_.clear();
    by_slot_.assign(plan.slots.empty() ? 0 : plan.slots.back().index + 1, nullptr);
    for (const auto& im : plan.slots) by_slot_.resize(std::max<size_t>(by_slot_.size(), im.index + 1));
    for (size_t i = 0; i < roots.size(); ++i) {
      auto r = std::make_unique<Record>(roots[i], chunk_, uint32_t(plan.epoch));
      r->src = std::move(plan.chunks[i]);
      for (size_t c = 0; c < r->n; ++c) r->load[c] = kUnloaded;
      by_slot_[r->slot] = r.get();
      recs_.push_back(std::move(r));
    }
  }
  committed_ = uint32_t(plan.epoch);
  epoch_ = uint32_t(plan.epoch);
  open_ = uint32_t(plan.epoch + 1);
  fds_ = std::move(fds);
  loader_delay_us_ = plan.loader_delay_us;
  {
    std::lock_guard<std::mutex> lk(wait_m_);
    load_error_.clear();
  }
  {
    std::lock_guard<std::mutex> lk(stats_m_);
    st_.on_demand_loads = st_.background_loads = st_.load_waits = st_.host_loads = st_.loaded_chunks = 0;
    st_.total_chunks = 0;
    for (auto& r : recs_) st_.total_chunks += r->n;
  }
  restoring_ = true;
  if (plan.on_demand) {
    *metadata_us = double(now_ns() - t0) / 1000.0;
    loader_ = std::thread([this] { loader(); });
    return "";
  }
  loader();  // the baseline: everything loaded before anything runs
  *metadata_us = double(now_ns() - t0) / 1000.0;
  std::string failed;
  {
    std::lock_guard<std::mutex> lk(wait_m_);
    failed = load_error_;
  }
  if (!failed.empty()) {  // give the device back empty, as it was
    {
      std::unique_lock<std::shared_mutex> lk(struct_m_);
      recs_.clear();
      by_slot_.clear();
    }
    for (const auto& im : slots_kept)
      if (!im.is_view) mem_.release(double(im.gen) * MemoryTable::kSlotSpan + double(im.index));
  }
  return failed;
}

void Engine::load_chunk(Record& r, size_t c) {
  thread_local std::vector<uint8_t> buf;
  const ChunkSource& s = r.src[c];
  buf.resize(s.len);
  std::string err;
  if (!read_all(fds_[s.file], buf.data(), buf.size(), s.offset)) {
    err = "restore: reading chunk " + std::to_string(c) + " of buffer " + std::to_string(r.slot) + " failed";
  } else if (crc32_of(buf.data(), buf.size()) != s.crc) {
    err = "restore: checksum mismatch in chunk " + std::to_string(c) + " of buffer " + std::to_string(r.slot) + " (image corrupt)";
  } else {
    mover_->load(r.at(c, chunk_), buf.data(), buf.size());
  }
  if (!err.empty()) {
    std::lock_guard<std::mutex> lk(wait_m_);
    if (load_error_.empty()) load_error_ = err;
  }
}

void Engine::ensure_loaded(Record& r, size_t c, bool background) {
  uint8_t s = r.load[c].load();
  if (s == kLoaded) return;
  if (s == kUnloaded && r.load[c].compare_exchange_strong(s, kLoading)) {
    load_chunk(r, c);
    r.load[c] = kLoaded;
    notify();
    std::lock_guard<std::mutex> lk(stats_m_);
    ++(background ? st_.background_loads : st_.on_demand_loads);
    ++st_.loaded_chunks;
    return;
  }
  if (background) return;  // someone else is loading it
  {
    std::lock_guard<std::mutex> lk(stats_m_);
    ++st_.load_waits;
  }
  std::unique_lock<std::mutex> lk(wait_m_);
  wait_cv_.wait(lk, [&] { return r.load[c].load() == kLoaded || stopping_; });
}

void Engine::loader() {
  {
    std::shared_lock<std::shared_mutex> lk(struct_m_);
    for (auto& r : recs_)
      for (size_t c = 0; c < r->n && !stopping_; ++c) {
        if (r->load[c].load() != kLoaded) ensure_loaded(*r, c, true);
        if (loader_delay_us_) std::this_thread::sleep_for(std::chrono::microseconds(loader_delay_us_));
      }
    // Chunks another thread was loading when the walk passed them.
    for (auto& r : recs_)
      for (size_t c = 0; c < r->n; ++c) {
        std::unique_lock<std::mutex> w(wait_m_);
        wait_cv_.wait(w, [&] { return r->load[c].load() == kLoaded || stopping_; });
      }
  }
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  restoring_ = false;
  notify();
}

std::string Engine::wait_restore() {
  std::unique_lock<std::mutex> lk(wait_m_);
  wait_cv_.wait(lk, [&] { return !restoring_.load() || stopping_; });
  return load_error_;
}

EngineStats Engine::stats() {
  std::lock_guard<std::mutex> lk(stats_m_);
  EngineStats s = st_;
  s.restoring = restoring_.load();
  return s;
}

}  // namespace xdev
