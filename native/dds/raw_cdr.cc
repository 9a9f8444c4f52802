#include "raw_cdr.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "dds/ddsi/q_radmin.h"

namespace xauto_dds {
namespace {

uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }

// Large samples come from a pool of power-of-two blocks: fresh multi-megabyte allocations
// are fresh pages from the kernel, and faulting them in costs more than the copy itself.
// (Cyclone pools its own serdata the same way.)
constexpr size_t kPoolMin = 64 * 1024;
constexpr size_t kPoolMaxCached = 128u << 20;
constexpr int kClasses = 32;
std::mutex pool_mu;
std::vector<void *> pool_free[kClasses];
size_t pool_cached = 0;

int size_class(size_t bytes) {
  int c = 0;
  while ((size_t{1} << c) < bytes) c++;
  return c;
}

void *block_alloc(size_t bytes, size_t *usable) {
  if (bytes < kPoolMin) {
    *usable = bytes;
    return malloc(bytes);
  }
  const int c = size_class(bytes);
  if (c >= kClasses) return nullptr;
  *usable = size_t{1} << c;
  {
    std::lock_guard<std::mutex> lk(pool_mu);
    if (!pool_free[c].empty()) {
      void *p = pool_free[c].back();
      pool_free[c].pop_back();
      pool_cached -= *usable;
      return p;
    }
  }
  return malloc(*usable);
}

void block_free(void *p, size_t usable) {
  if (usable >= kPoolMin) {
    const int c = size_class(usable);
    std::lock_guard<std::mutex> lk(pool_mu);
    if (pool_cached + usable <= kPoolMaxCached) {
      pool_free[c].push_back(p);
      pool_cached += usable;
      return;
    }
  }
  free(p);
}

RawSerdata *new_serdata(const ddsi_sertype *type, ddsi_serdata_kind kind, uint32_t size) {
  RawSerdata *sd = alloc_raw_serdata(size);
  if (!sd) return nullptr;
  ddsi_serdata_init(&sd->c, type, kind);
  sd->c.hash = type ? type->serdata_basehash : 0;
  return sd;
}

// Key-only samples: keyless ROS2 types carry an empty CDR body.
RawSerdata *new_key_serdata(const ddsi_sertype *type) {
  RawSerdata *sd = new_serdata(type, SDK_KEY, 4);
  if (!sd) return nullptr;
  const uint8_t hdr[4] = {0x00, 0x01, 0x00, 0x00};
  memcpy(sd->bytes(), hdr, 4);
  return sd;
}

RawSertype *as_raw(const ddsi_sertype *t) {
  return reinterpret_cast<RawSertype *>(const_cast<ddsi_sertype *>(t));
}

// ---- serdata ops ----

bool sd_eqkey(const ddsi_serdata *, const ddsi_serdata *) { return true; }

uint32_t sd_get_size(const ddsi_serdata *d) { return reinterpret_cast<const RawSerdata *>(d)->size; }

void sd_free(ddsi_serdata *d) {
  RawSerdata *sd = reinterpret_cast<RawSerdata *>(d);
  block_free(sd, sizeof(RawSerdata) + sd->capacity);
}

ddsi_serdata *refuse(const ddsi_sertype *type) {
  as_raw(type)->malformed.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

ddsi_serdata *sd_from_ser(const ddsi_sertype *type, ddsi_serdata_kind kind, const nn_rdata *fragchain,
                          size_t size) {
  if (kind != SDK_DATA) return &new_key_serdata(type)->c;
  if (size > UINT32_MAX - 4) return refuse(type);
  RawSerdata *sd = new_serdata(type, kind, static_cast<uint32_t>(size));
  if (!sd) return nullptr;
  // Gather the fragments (they may overlap) into one contiguous sample: the only copy on receive.
  uint8_t *dst = sd->bytes();
  uint32_t off = 0;
  while (fragchain) {
    if (fragchain->maxp1 > off) {
      const unsigned char *payload = NN_RMSG_PAYLOADOFF(fragchain->rmsg, NN_RDATA_PAYLOAD_OFF(fragchain));
      const uint32_t end = fragchain->maxp1 < size ? fragchain->maxp1 : static_cast<uint32_t>(size);
      if (end > off) memcpy(dst + off, payload + off - fragchain->min, end - off);
      off = fragchain->maxp1;
    }
    fragchain = fragchain->nextfrag;
  }
  if (!valid_encapsulation(dst, size)) {
    sd_free(&sd->c);
    return refuse(type);
  }
  return &sd->c;
}

ddsi_serdata *sd_from_ser_iov(const ddsi_sertype *type, ddsi_serdata_kind kind, ddsrt_msg_iovlen_t niov,
                              const ddsrt_iovec_t *iov, size_t size) {
  if (kind != SDK_DATA) return &new_key_serdata(type)->c;
  if (size > UINT32_MAX - 4) return refuse(type);
  RawSerdata *sd = new_serdata(type, kind, static_cast<uint32_t>(size));
  if (!sd) return nullptr;
  size_t off = 0;
  for (ddsrt_msg_iovlen_t i = 0; i < niov && off < size; i++) {
    size_t n = iov[i].iov_len;
    if (n > size - off) n = size - off;
    memcpy(sd->bytes() + off, iov[i].iov_base, n);
    off += n;
  }
  if (!valid_encapsulation(sd->bytes(), size)) {
    sd_free(&sd->c);
    return refuse(type);
  }
  return &sd->c;
}

ddsi_serdata *sd_from_keyhash(const ddsi_sertype *type, const ddsi_keyhash *) {
  return &new_key_serdata(type)->c;
}

ddsi_serdata *sd_from_sample(const ddsi_sertype *type, ddsi_serdata_kind kind, const void *sample) {
  if (kind != SDK_DATA) return &new_key_serdata(type)->c;
  const RawSample *s = static_cast<const RawSample *>(sample);
  if (!valid_encapsulation(s->data, s->size)) return nullptr;
  RawSerdata *sd = alloc_raw_serdata(s->size);
  if (!sd) return nullptr;
  memcpy(sd->bytes(), s->data, s->size);
  init_raw_serdata(sd, type);
  return &sd->c;
}

void sd_to_ser(const ddsi_serdata *d, size_t off, size_t sz, void *buf) {
  memcpy(buf, reinterpret_cast<const RawSerdata *>(d)->bytes() + off, sz);
}

ddsi_serdata *sd_to_ser_ref(const ddsi_serdata *d, size_t off, size_t sz, ddsrt_iovec_t *ref) {
  const RawSerdata *sd = reinterpret_cast<const RawSerdata *>(d);
  ref->iov_base = const_cast<uint8_t *>(sd->bytes()) + off;
  ref->iov_len = static_cast<ddsrt_iov_len_t>(sz);
  return ddsi_serdata_ref(d);
}

void sd_to_ser_unref(ddsi_serdata *d, const ddsrt_iovec_t *) { ddsi_serdata_unref(d); }

bool sd_to_sample(const ddsi_serdata *d, void *sample, void **bufptr, void *) {
  if (bufptr) return false;
  const RawSerdata *sd = reinterpret_cast<const RawSerdata *>(d);
  RawSample *s = static_cast<RawSample *>(sample);
  uint8_t *copy = static_cast<uint8_t *>(realloc(s->data, sd->size ? sd->size : 1));
  if (!copy) return false;
  memcpy(copy, sd->bytes(), sd->size);
  s->data = copy;
  s->size = sd->size;
  return true;
}

ddsi_serdata *sd_to_untyped(const ddsi_serdata *d) {
  RawSerdata *k = new_key_serdata(d->type);
  if (k) k->c.type = nullptr;
  return k ? &k->c : nullptr;
}

bool sd_untyped_to_sample(const ddsi_sertype *, const ddsi_serdata *, void *, void **, void *) { return true; }

size_t sd_print(const ddsi_sertype *, const ddsi_serdata *d, char *buf, size_t size) {
  return static_cast<size_t>(snprintf(buf, size, "(cdr, %u bytes)", reinterpret_cast<const RawSerdata *>(d)->size));
}

void sd_get_keyhash(const ddsi_serdata *, ddsi_keyhash *buf, bool) { memset(buf, 0, sizeof(*buf)); }

const ddsi_serdata_ops serdata_ops = [] {
  ddsi_serdata_ops ops{};
  ops.eqkey = sd_eqkey;
  ops.get_size = sd_get_size;
  ops.from_ser = sd_from_ser;
  ops.from_ser_iov = sd_from_ser_iov;
  ops.from_keyhash = sd_from_keyhash;
  ops.from_sample = sd_from_sample;
  ops.to_ser = sd_to_ser;
  ops.to_ser_ref = sd_to_ser_ref;
  ops.to_ser_unref = sd_to_ser_unref;
  ops.to_sample = sd_to_sample;
  ops.to_untyped = sd_to_untyped;
  ops.untyped_to_sample = sd_untyped_to_sample;
  ops.free = sd_free;
  ops.print = sd_print;
  ops.get_keyhash = sd_get_keyhash;
  return ops;
}();

// ---- sertype ops ----

void st_free(ddsi_sertype *tp) {
  ddsi_sertype_fini(tp);
  delete as_raw(tp);
}

void st_zero_samples(const ddsi_sertype *, void *samples, size_t count) {
  memset(samples, 0, count * sizeof(RawSample));
}

void st_realloc_samples(void **ptrs, const ddsi_sertype *, void *old, size_t oldcount, size_t count) {
  RawSample *arr = static_cast<RawSample *>(realloc(old, (count ? count : 1) * sizeof(RawSample)));
  if (count > oldcount) memset(arr + oldcount, 0, (count - oldcount) * sizeof(RawSample));
  for (size_t i = 0; i < count; i++) ptrs[i] = &arr[i];
}

void st_free_samples(const ddsi_sertype *, void **ptrs, size_t count, dds_free_op_t op) {
  if (count == 0) return;
  if (op & DDS_FREE_CONTENTS_BIT) {
    for (size_t i = 0; i < count; i++) {
      RawSample *s = static_cast<RawSample *>(ptrs[i]);
      free(s->data);
      s->data = nullptr;
      s->size = 0;
    }
  }
  if (op & DDS_FREE_ALL_BIT) free(ptrs[0]);
}

bool st_equal(const ddsi_sertype *, const ddsi_sertype *) { return true; }
uint32_t st_hash(const ddsi_sertype *) { return 0; }

size_t st_serialized_size(const ddsi_sertype *, const void *sample) {
  return static_cast<const RawSample *>(sample)->size;
}

bool st_serialize_into(const ddsi_sertype *, const void *sample, void *dst, size_t dst_size) {
  const RawSample *s = static_cast<const RawSample *>(sample);
  if (dst_size < s->size) return false;
  memcpy(dst, s->data, s->size);
  return true;
}

const ddsi_sertype_ops sertype_ops = [] {
  ddsi_sertype_ops ops{};
  ops.version = ddsi_sertype_v0;
  ops.arg = nullptr;
  ops.free = st_free;
  ops.zero_samples = st_zero_samples;
  ops.realloc_samples = st_realloc_samples;
  ops.free_samples = st_free_samples;
  ops.equal = st_equal;
  ops.hash = st_hash;
  ops.get_serialized_size = st_serialized_size;
  ops.serialize_into = st_serialize_into;
  return ops;
}();

}  // namespace

bool valid_encapsulation(const uint8_t *hdr, size_t size) {
  if (size < 4) return false;
  if (hdr[0] != 0) return false;
  // CDR_BE/LE (0,1), PL_CDR (2,3), CDR2 (6,7), D_CDR2 (8,9), PL_CDR2 (10,11)
  const uint8_t id = hdr[1];
  return id <= 3 || (id >= 6 && id <= 11);
}

RawSertype *new_raw_sertype(const std::string &type_name) {
  RawSertype *st = new (std::nothrow) RawSertype();
  if (!st) return nullptr;
  ddsi_sertype_init(&st->c, type_name.c_str(), &sertype_ops, &serdata_ops, true);
  return st;
}

RawSerdata *alloc_raw_serdata(uint32_t size) {
  const uint32_t cap = align4(size < 4 ? 4 : size);
  size_t usable = 0;
  void *mem = block_alloc(sizeof(RawSerdata) + cap, &usable);
  if (!mem) return nullptr;
  RawSerdata *sd = static_cast<RawSerdata *>(mem);
  memset(&sd->c, 0, sizeof(sd->c));
  sd->size = size;
  sd->capacity = static_cast<uint32_t>(usable - sizeof(RawSerdata));
  // Zero the padding so the bytes on the wire are deterministic.
  if (cap > size) memset(sd->bytes() + size, 0, cap - size);
  return sd;
}

RawSerdata *copy_raw_serdata(const RawSerdata *src, const ddsi_sertype *type) {
  RawSerdata *sd = alloc_raw_serdata(src->size);
  if (!sd) return nullptr;
  memcpy(sd->bytes(), src->bytes(), src->size);
  ddsi_serdata_init(&sd->c, type, SDK_DATA);
  sd->c.hash = type->serdata_basehash;
  return sd;
}

void finish_raw_serdata(RawSerdata *sd, uint32_t length) {
  const uint32_t padded = align4(length);
  if (padded > length) memset(sd->bytes() + length, 0, padded - length);
  sd->size = length;
  if (length >= 4) {
    uint8_t *b = sd->bytes();
    b[3] = static_cast<uint8_t>((b[3] & ~3u) | (padded - length));
    sd->size = padded;
  }
}

void init_raw_serdata(RawSerdata *sd, const ddsi_sertype *type) {
  // XCDR: the low two bits of the options field say how many padding bytes end the sample,
  // so the payload on the wire can be a multiple of 4 while readers know the real length.
  if (sd->size >= 4) {
    const uint32_t padded = align4(sd->size);
    uint8_t *b = sd->bytes();
    b[3] = static_cast<uint8_t>((b[3] & ~3u) | (padded - sd->size));
    sd->size = padded;
  }
  ddsi_serdata_init(&sd->c, type, SDK_DATA);
  sd->c.hash = type->serdata_basehash;
}

}  // namespace xauto_dds
