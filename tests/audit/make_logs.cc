// Writes the logs tests/audit/fixtures.cmake audits into the folder argv[1]: a good
// log, each kind of damage to it, and keys. Made with essim's own record
// writer, so they follow the record format (model/log.h) whatever it becomes.

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/test_records.h"

namespace {

using essim::Bytes;
using essim::model::testing::joined;
using essim::model::testing::Records;

// `count` records with bodies "PREFIX 0", "PREFIX 1", ...
Records chained(const std::string& prefix, int count) {
  std::vector<Bytes> bodies;
  for (int i = 0; i < count; ++i) {
    const std::string text = fmt::format("{} {}", prefix, i);
    bodies.emplace_back(text.begin(), text.end());
  }
  return essim::model::testing::chained(bodies);
}

bool write(const std::string& dir, const std::string& name, const Bytes& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

Bytes text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_logs DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const Records good = chained("record", 5);  // 5 records of 24 bytes: 120 bytes
  Records swapped = good;
  std::swap(swapped[1], swapped[3]);
  Records removed = good;
  removed.erase(removed.begin() + 2);
  Records spliced = good;
  spliced[2] = chained("other", 3)[2];
  Bytes flipped = joined(good);
  flipped[2 * 24 + 16] ^= 0x04;  // a bit of record 2's body
  Bytes torn = joined(good);
  torn.resize(torn.size() - 3);
  Bytes huge = joined(good);
  for (int i = 0; i < 4; ++i) huge[3 * 24 + i] = 0xff;  // record 3's length field
  Bytes not_a_log = Bytes(16, 0xff);
  not_a_log.resize(100, 0x00);
  const bool ok = write(dir, "good.log", joined(good)) &&
                  write(dir, "first3.log", joined(Records(good.begin(), good.begin() + 3))) &&
                  write(dir, "empty.log", {}) && write(dir, "swapped.log", joined(swapped)) &&
                  write(dir, "removed.log", joined(removed)) &&
                  write(dir, "spliced.log", joined(spliced)) &&
                  write(dir, "bit-flip.log", flipped) && write(dir, "torn.log", torn) &&
                  write(dir, "huge-length.log", huge) && write(dir, "not-a-log.log", not_a_log) &&
                  write(dir, "rebuilt.log", joined(chained("recorD", 5))) &&
                  write(dir, "audit.key", text("0123456789abcdef0123456789abcdef")) &&
                  write(dir, "other.key", text("fedcba9876543210fedcba9876543210")) &&
                  write(dir, "short.key", text("12345")) && write(dir, "empty.key", {});
  if (!ok) {
    std::fprintf(stderr, "make_logs: cannot write into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
