// A Cyclone DDS serializer type whose samples are opaque CDR byte strings (encapsulation
// header included). With it any ROS2 message type can be written and read without a
// compiled type: serialization happens in TypeScript, DDS only moves bytes.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

#include "dds/dds.h"
#include "dds/ddsi/ddsi_serdata.h"
#include "dds/ddsi/ddsi_sertype.h"

namespace xauto_dds {

struct RawSertype {
  ddsi_sertype c;
  // Samples refused on arrival because their encapsulation header was not CDR.
  std::atomic<uint64_t> malformed{0};
};

struct RawSerdata {
  ddsi_serdata c;
  uint32_t size;      // serialized size including the 4-byte encapsulation header
  uint32_t capacity;  // bytes usable after the struct (at least size rounded up to 4)
  uint8_t *bytes() { return reinterpret_cast<uint8_t *>(this + 1); }
  const uint8_t *bytes() const { return reinterpret_cast<const uint8_t *>(this + 1); }
};

/// Sample layout used by dds_write/dds_take (the CDR path does not need it).
struct RawSample {
  uint8_t *data;
  uint32_t size;
};

RawSertype *new_raw_sertype(const std::string &type_name);
/// Allocates an uninitialised serdata able to hold `size` bytes (with 4-byte padding room).
RawSerdata *alloc_raw_serdata(uint32_t size);
/// Attaches `sd` to `type` as a DATA sample; sets the XCDR padding bits for the final bytes.
void init_raw_serdata(RawSerdata *sd, const ddsi_sertype *type);
/// A loaned sample (initialised at its full size) cut to its first `length` bytes, with the
/// padding to 4 zeroed and the XCDR padding bits set, as init_raw_serdata leaves a sample.
void finish_raw_serdata(RawSerdata *sd, uint32_t length);
/// A DATA sample of `type` holding `src`'s bytes as they are (size and padding bits included).
RawSerdata *copy_raw_serdata(const RawSerdata *src, const ddsi_sertype *type);
/// True when the first two bytes name a CDR encapsulation this runtime can read.
bool valid_encapsulation(const uint8_t *hdr, size_t size);

}  // namespace xauto_dds
