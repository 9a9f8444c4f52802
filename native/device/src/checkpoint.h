// Concurrent checkpoint and restore of device memory (after POS/PhOS): every allocation is
// captured as of an instant t1 while launches keep running, and restored while they run.
//
// Checkpoint. t1 is a cut in the launch sequence: launches enqueued before it are "pre-cut"
// (their writes belong to the image), later ones "post-cut" (theirs must not). Memory is
// split into chunks. Each chunk of the epoch goes not saved -> saving -> saved exactly
// once, whoever saves it: the copier thread walking chunks in order, or a post-cut launch
// about to write it (soft copy-on-write on its unit, from its access sets). A chunk that a
// pre-cut launch still has to write is saved only after that launch completed, and no
// post-cut writer of it starts before then, nor before the pre-cut launches that read it
// (so none of them sees a post-cut write). Incremental epochs save only chunks written
// since the last committed epoch (every write is tagged with the epoch it falls in).
// Stop-the-world mode (the baseline) holds every post-cut launch, waits for pre-cut work and
// copies everything on the caller's thread.
//
// Restore. Handles are recreated first (metadata), then launches run at once: a launch (or
// a host read or write) that touches a chunk not yet loaded loads exactly that chunk, ahead
// of a background loader filling in the rest.
//
// Chunks move through a ChunkMover: by default the backend's to_host / to_device; a CUDA
// backend gives one that issues asynchronous copies on a copy stream.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"
#include "memory.h"
#include "scheduler.h"

namespace xdev {

class ChunkMover {
 public:
  virtual ~ChunkMover() = default;
  virtual void save(uint8_t* host, const uint8_t* dev, size_t n) = 0;
  virtual void load(uint8_t* dev, const uint8_t* host, size_t n) = 0;
};
std::unique_ptr<ChunkMover> backend_mover(Backend& b);

enum class CkptMode { kConcurrent, kStopTheWorld };

// A chunk written to an epoch's chunk file.
struct SavedChunk {
  uint32_t slot, chunk;
  uint64_t offset, len;
  uint32_t crc;  // zlib crc32
};

struct EpochStart {
  uint64_t epoch = 0, parent = 0, chunks = 0, bytes = 0;
  double pause_us = 0;  // time the caller was held (all of stop-the-world's copy)
};

struct EpochResult {
  uint64_t epoch = 0, parent = 0;
  std::vector<SlotImage> slots;   // the handles as of t1
  std::vector<SavedChunk> saved;  // in file order
  std::string error;
  double copy_us = 0, write_us = 0;
  uint64_t cow_chunks = 0, copier_chunks = 0, max_copies = 0;
  double cow_us = 0;  // time post-cut launches spent saving chunks before they ran
};

struct ChunkSource {
  uint32_t file;
  uint64_t offset, len;
  uint32_t crc;
};

struct RestorePlan {
  uint64_t epoch = 0;
  std::vector<SlotImage> slots;
  std::vector<std::string> files;
  // per root slot (in `slots` order, views skipped): one source per chunk
  std::vector<std::vector<ChunkSource>> chunks;
  bool on_demand = true;
  bool verify = false;  // check every chunk's checksum before anything changes
  uint32_t loader_delay_us = 0;  // tests: slow the background loader down
};

struct EngineStats {
  uint64_t epochs = 0, cow_chunks = 0, copier_chunks = 0;
  uint64_t on_demand_loads = 0, background_loads = 0, load_waits = 0, host_loads = 0;
  uint64_t loaded_chunks = 0, total_chunks = 0;
  double cow_us = 0;
  bool restoring = false;
};

class Engine final : public LaunchObserver, public HostAccessHook {
 public:
  Engine(MemoryTable& mem, Scheduler& sched, size_t chunk_bytes);
  ~Engine() override;
  size_t chunk_bytes() const { return chunk_; }

  // JS thread. "" or why not.
  // copier_delay_us: tests slow the copier down so launches race it.
  std::string begin(CkptMode mode, bool incremental, const std::string& path, EpochStart* out, uint32_t copier_delay_us = 0);
  void wait_epoch(EpochResult* out);  // any thread: blocks until the epoch's file is durable
  void commit(uint64_t epoch);        // the image of `epoch` is committed: later ones are incremental to it
  std::string restore(RestorePlan&& plan, double* metadata_us);
  std::string wait_restore();  // blocks until every chunk is loaded; "" or the first load error
  EngineStats stats();
  void stop();  // the device is closing: finish threads

  bool may_start(const Launch& l) override;
  void before_run(const Launch& l) override;
  void finished(const Launch& l) override;
  void before_host_access(const Resolved& r, size_t offset, size_t n, bool write) override;
  void cleared() override;

 private:
  enum : uint8_t { kClean = 0, kNotSaved = 1, kSaving = 2, kSaved = 3 };
  enum : uint8_t { kLoaded = 0, kUnloaded = 1, kLoading = 2 };
  struct Record;
  Record* find(uint32_t slot, uint32_t gen) const;
  template <typename F>
  void each_chunk(const Range& r, F f) const;
  void cow(Record& rec, size_t c);
  void save_chunk(Record& rec, size_t c);
  void ensure_loaded(Record& rec, size_t c, bool background);
  void load_chunk(Record& rec, size_t c);
  void copier();
  void write_file();
  void loader();
  void notify();

  MemoryTable& mem_;
  Scheduler& sched_;
  std::unique_ptr<ChunkMover> mover_;
  size_t chunk_;

  mutable std::shared_mutex struct_m_;  // records: unique when rebuilt (JS thread), shared to read
  std::vector<std::unique_ptr<Record>> recs_;
  std::vector<Record*> by_slot_;

  std::mutex wait_m_;  // chunk state changes and pre-cut completions
  std::condition_variable wait_cv_;

  std::atomic<bool> active_{false};  // an epoch is saving chunks: copy-on-write is on
  std::atomic<bool> frozen_{false};  // stop-the-world: post-cut launches held
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> cut_id_{0};
  std::atomic<uint32_t> epoch_{0}, open_{1}, committed_{0};
  std::atomic<int64_t> pre_pending_{0};
  bool writing_ = false;  // the epoch's file is not yet durable (guarded by wait_m_)
  int fd_ = -1;
  std::atomic<uint64_t> cow_chunks_{0}, copier_chunks_{0}, cow_ns_{0};
  EpochResult result_;
  std::thread worker_;

  std::atomic<bool> restoring_{false};
  std::vector<int> fds_;
  std::string load_error_;  // guarded by wait_m_
  uint32_t loader_delay_us_ = 0, copier_delay_us_ = 0;
  std::thread loader_;

  std::mutex stats_m_;
  EngineStats st_;
};

uint32_t crc32_of(const uint8_t* p, size_t n);

}  // namespace xdev
