// A restricted unpickler for torch.save files: pickle protocols 0-5 as state dicts use them,
// decoded into PickleValues without executing anything.
//
// GLOBAL and STACK_GLOBAL only name a global. REDUCE, NEWOBJ and NEWOBJ_EX build a known
// structure for an allowlisted global and an opaque value for any other:
//   collections.OrderedDict                      -> dict
//   torch._utils._rebuild_tensor(_v2, _v3)       -> tensor (problem set if an input is opaque)
//   torch._utils._rebuild_parameter(_with_state) -> its tensor
//   torch._tensor._rebuild_from_type_v2          -> the tensor it wraps (Tensor, Parameter)
//   torch.Size                                   -> tuple
//   torch.device                                 -> its name as a string
//   builtins/__builtin__ set, frozenset, slice   -> set, set, tuple
//   _codecs.encode(text, 'latin1')               -> bytes (protocol 2's form of bytes)
// BINPERSID/PERSID with ('storage', torch.<T>Storage, key, location, numel[, view]) gives a
// storage; other persistent ids are opaque. BUILD keeps dicts and tensors as they are and
// carries the state of an opaque value along with it.
//
// Bounded: memo indices, stack underflow, MARK matching, every length against the bytes left,
// at most max_stack stack entries, max_marks open marks, max_values values and max_items
// container items (copies such as torch.Size(list) included), strings within max_payload
// bytes beyond the input. Every failure is an rp::Error naming the file, the byte
// offset and the opcode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "weights/pickle_value.h"

namespace rp {

struct PickleLimits {
  std::size_t max_values = 4'000'000;
  std::size_t max_items = 16'000'000;  // container items in all, copies included
  std::size_t max_stack = 1'000'000;
  std::size_t max_marks = 100'000;
  std::uint64_t max_payload = 64ull << 20;  // string bytes allowed beyond the input's size
};

// Runs one pickle of data[pos..size) to its STOP, appending to `values`, and returns the
// root. `pos` is left after the STOP. `file` and `where` name the input in errors
// ("<file>: <where> byte N, opcode X: ..."); `base` is added to byte offsets.
PickleId unpickle(PickleValues& values, const std::uint8_t* data, std::size_t size,
                  std::size_t& pos, const std::string& file, const std::string& where,
                  std::size_t base, const PickleLimits& limits = PickleLimits());

}  // namespace rp
