#include "validate.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "clock.h"

namespace xdev {

namespace {

constexpr double kMaxInt = 1099511627776.0;  // 2^40: keeps every extent product exact

std::string arg_error(const KernelDesc& k, int i, const std::string& what) {
  return "launch " + k.name + ": argument '" + k.params[size_t(i)].name + "' (#" + std::to_string(i) + ") " + what;
}

std::string fmt_u(uint64_t v) { return std::to_string(v); }

std::string fmt_d(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

inline uint64_t bits(double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  return u;
}

uint64_t term_value(const Term& t, const Args& a) { return t.param < 0 ? t.value : uint64_t(a.s[t.param]); }

}  // namespace

void ValidateStats::record(uint64_t ns) {
  ++count;
  sum_ns += double(ns);
  if (ns > max_ns) max_ns = ns;
  size_t b = size_t(ns / kBucketNs);
  hist[b < size_t(kBuckets) ? b : size_t(kBuckets)]++;
}

double ValidateStats::percentile_ns(double q) const {
  if (count == 0) return 0;
  uint64_t want = uint64_t(std::ceil(q * double(count)));
  if (want == 0) want = 1;
  uint64_t seen = 0;
  for (int b = 0; b <= kBuckets; ++b) {
    seen += hist[size_t(b)];
    if (seen >= want) return b == kBuckets ? double(max_ns) : double(b + 1) * kBucketNs;  // bucket upper edge
  }
  return double(max_ns);
}

std::string Validator::prepare(const MemoryTable& mem, int kernel, const double* packed, size_t n, Prepared* out) {
  const auto& lib = kernel_library();
  if (kernel < 0 || size_t(kernel) >= lib.size()) return "launch: unknown kernel id " + std::to_string(kernel);
  const KernelDesc& k = lib[size_t(kernel)];
  if (n != size_t(k.slots)) {
    std::string names;
    for (const auto& p : k.params) names += (names.empty() ? "" : ", ") + p.name;
    return "launch " + k.name + ": expected " + std::to_string(k.params.size()) + " arguments (" + names + "), got a packed list of " +
           std::to_string(n) + " slots instead of " + std::to_string(k.slots);
  }
  const TickClock& clk = tick_clock();
  const uint64_t t0 = clk.ticks();
  out->kernel = kernel;
  out->args = Args();
  out->args.k = &k;
  out->nholds = 0;

  // Key: kernel, every buffer's root identity + absolute offset + view limit, and the
  // scalars the access sets depend on (their zero-ness only, for read-if-nonzero ones).
  uint64_t key[1 + 4 * kMaxParams];
  size_t nk = 0;
  key[nk++] = uint64_t(kernel);
  uint64_t abs[kMaxParams] = {}, limit[kMaxParams] = {};
  Resolved res[kMaxParams];
  size_t slot = 0;
  for (size_t i = 0; i < k.params.size(); ++i) {
    const ParamSpec& p = k.params[i];
    if (!p.is_buffer) {
      double v = packed[slot++];
      if (p.is_int) {
        if (!(std::isfinite(v) && std::floor(v) == v && v >= double(p.min) && v <= kMaxInt))
          return arg_error(k, int(i), "must be an integer between " + std::to_string(p.min) + " and 2^40");
      }
      out->args.s[i] = v;
      if (k.key_scalars >> i & 1u) key[nk++] = bits(v);
      if (k.zero_scalars >> i & 1u) key[nk++] = v == 0.0 ? 0 : 1;
      continue;
    }
    double h = packed[slot++], off = packed[slot++];
    std::string err = mem.resolve(h, &res[i]);
    if (!err.empty()) return arg_error(k, int(i), "is invalid: " + err);
    if (!(std::isfinite(off) && std::floor(off) == off && off >= 0 && off <= double(res[i].bytes)))
      return arg_error(k, int(i), "has byte offset " + fmt_d(off) + "; expected 0.." + fmt_u(res[i].bytes) + " for its buffer");
    abs[i] = res[i].base + uint64_t(off);
    limit[i] = res[i].base + res[i].bytes;
    // Elements of power-of-two size align to their size; packed records (xyz) to 4 bytes.
    const uint32_t align = (p.elem & (p.elem - 1)) == 0 ? p.elem : 4;
    if (abs[i] % align != 0)
      return arg_error(k, int(i), "points at byte " + fmt_u(abs[i]) + " of its allocation; expected a multiple of " +
                                      std::to_string(align) + " (" + p.type + " elements)");
    out->args.ptr[i] = res[i].root->data + abs[i];
    key[nk++] = uint64_t(res[i].root->index) | (uint64_t(res[i].root->gen) << 32);
    key[nk++] = abs[i];
    key[nk++] = limit[i];
  }
  uint64_t h = 0x243f6a8885a308d3ull;
  for (size_t i = 0; i < nk; ++i) h = mix(h, key[i]);

  bool hit = false;
  auto it = cache_.find(h);
  if (it != cache_.end()) {
    for (const Entry& e : it->second) {
      if (e.key.size() == nk && std::memcmp(e.key.data(), key, nk * 8) == 0) {
        out->dec = e.d;
        hit = true;
        break;
      }
    }
  }
  if (!hit) {
    auto fresh = std::make_shared<Decision>();
    std::string err = compute(*out, abs, limit, res, fresh.get());
    if (!err.empty()) return err;
    out->dec = fresh;
    if (entries_ >= kMaxEntries) {
      cache_.clear();
      entries_ = 0;
    }
    cache_[h].push_back(Entry{std::vector<uint64_t>(key, key + nk), out->dec});
    ++entries_;
  } else {
    ++stats.cache_hits;
  }
  const uint64_t t1 = clk.ticks();
  stats.record(clk.to_ns(t1 - t0));

  // Hold every allocation touched until the launch is done (frees are deferred meanwhile).
  for (size_t i = 0; i < k.params.size(); ++i)
    if (k.params[i].is_buffer) out->holds[out->nholds++] = res[i].root->shared_from_this();
  uint64_t g = k.grid(out->args);
  if (g > (1ull << 31)) return "launch " + k.name + ": grid of " + fmt_u(g) + " blocks is too large (at most 2^31)";
  out->grid = uint32_t(g);
  return "";
}

std::string Validator::compute(const Prepared& p, const uint64_t* abs, const uint64_t* limit, const Resolved* res, Decision* d) {
  const KernelDesc& k = *p.args.k;
  // *d is freshly value-initialised by the caller (make_shared): no second 1.3 KB reset here.
  for (size_t i = 0; i < k.params.size(); ++i) {
    const ParamSpec& ps = k.params[i];
    if (!ps.is_buffer) continue;
    unsigned __int128 count = 1;
    for (const Term& t : ps.count) count *= term_value(t, p.args);
    unsigned __int128 bytes = 0;
    if (count > 0) bytes = ((count - 1) * term_value(ps.stride, p.args) + 1) * ps.elem;
    if (bytes > (unsigned __int128)(limit[i] - abs[i])) {
      std::string want = bytes > (unsigned __int128)(1ull << 62) ? std::string("more than 2^62") : fmt_u(uint64_t(bytes));
      return arg_error(k, int(i), "would touch " + want + " bytes from byte " + fmt_u(abs[i] - res[i].base) + " of its buffer, which has " +
                                      fmt_u(res[i].bytes) + " bytes");
    }
    if (bytes == 0) continue;
    // Scalar conditions known at launch (rules 2 and 3 in validate.h): untouched, or only read.
    if (ps.active_if_nonzero >= 0 && p.args.s[ps.active_if_nonzero] == 0.0) continue;
    Range r{MemoryTable::root_handle(*res[i].root), res[i].root->index, res[i].root->gen, abs[i], abs[i] + uint64_t(bytes), int(i)};
    bool reads = (ps.access & kIn) && (ps.read_if_nonzero < 0 || p.args.s[ps.read_if_nonzero] != 0.0);
    bool writes = (ps.access & kOut) && (ps.write_if_nonzero < 0 || p.args.s[ps.write_if_nonzero] != 0.0);
    if (reads) d->sets.reads[d->sets.nr++] = r;
    if (writes) d->sets.writes[d->sets.nw++] = r;
  }
  if (k.side_effects != kNoSideEffects) {
    d->reason = kSideEffects;
    return "";
  }
  for (int w = 0; w < d->sets.nw; ++w)
    for (int r = 0; r < d->sets.nr; ++r) {
      const Range &a = d->sets.writes[w], &b = d->sets.reads[r];
      if (a.slot == b.slot && a.gen == b.gen && a.begin < b.end && b.begin < a.end) {
        // Rule 5: an element-wise select over exactly the range it reads (same bytes).
        if (k.params[size_t(a.param)].select_of == b.param && a.begin == b.begin && a.end == b.end) continue;
        d->reason = kOverlap;
        d->write_param = a.param;
        d->read_param = b.param;
        return "";
      }
    }
  d->idempotent = true;
  return "";
}

}  // namespace xdev
