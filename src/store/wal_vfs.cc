// The WAL-gathering VFS (wal_vfs.h).
#include "store/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace garcon::store {
namespace {

// Writes gathered past this are written at once; a larger single write goes
// straight to the file.
constexpr std::size_t kMaxBuffer = std::size_t{1} << 20;

sqlite3_vfs* g_base = nullptr;  // the default VFS, wrapped
std::atomic<std::uint64_t> g_received{0};
std::atomic<std::uint64_t> g_issued{0};

struct WalFile {
  sqlite3_file base;  // pMethods: kWalMethods
  sqlite3_file* real;
  char* data;
  sqlite3_int64 start;  // file offset of data[0]
  std::size_t len;
  std::size_t cap;
};

constexpr std::size_t RealOffset() { return (sizeof(WalFile) + 7) & ~std::size_t{7}; }

WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }

// The largest write handed to the base VFS at once: SQLite's unix VFS
// writes at most 128 KiB - 1 bytes per write(2) (it masks the length with
// 0x1ffff) and reports a write whose length is a multiple of 128 KiB as a
// full disk, so longer runs go in pieces below that.
constexpr std::size_t kMaxWrite = 120 * 1024;

int Issue(WalFile* w, const void* data, std::size_t len, sqlite3_int64 offset) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    const std::size_t n = std::min(len, kMaxWrite);
    g_issued.fetch_add(1, std::memory_order_relaxed);
    const int rc = w->real->pMethods->xWrite(w->real, p, static_cast<int>(n), offset);
    if (rc != SQLITE_OK) return rc;
    p += n;
    len -= n;
    offset += static_cast<sqlite3_int64>(n);
  }
  return SQLITE_OK;
}

// Writes what is gathered. On failure the gathered bytes are dropped, as a
// failed write(2) leaves the file: SQLite fails the transaction.
int Flush(WalFile* w) {
  if (w->len == 0) return SQLITE_OK;
  const std::size_t len = w->len;
  w->len = 0;
  return Issue(w, w->data, len, w->start);
}

int WalClose(sqlite3_file* f) {
  WalFile* w = Wal(f);
  const int flushed = Flush(w);
  const int closed = w->real->pMethods->xClose(w->real);
  std::free(w->data);
  w->data = nullptr;
  w->cap = 0;
  return flushed != SQLITE_OK ? flushed : closed;
}

int WalRead(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  if (const int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xRead(w->real, out, amount, offset);
}

int WalWrite(sqlite3_file* f, const void* in, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  g_received.fetch_add(1, std::memory_order_relaxed);
  const auto n = static_cast<std::size_t>(amount);
  const bool continues = w->len > 0 && offset == w->start + static_cast<sqlite3_int64>(w->len);
  if (w->len > 0 && (!continues || w->len + n > kMaxBuffer)) {
    if (const int rc = Flush(w); rc != SQLITE_OK) return rc;
  }
  if (n > kMaxBuffer) return Issue(w, in, n, offset);
  if (w->len + n > w->cap) {
    const std::size_t cap = std::max<std::size_t>({w->cap * 2, w->len + n, 64 * 1024});
    void* grown = std::realloc(w->data, cap);
    if (grown == nullptr) {
      if (const int rc = Flush(w); rc != SQLITE_OK) return rc;
      return Issue(w, in, n, offset);
    }
    w->data = static_cast<char*>(grown);
    w->cap = cap;
  }
  if (w->len == 0) w->start = offset;
  std::memcpy(w->data + w->len, in, n);
  w->len += n;
  return SQLITE_OK;
}

int WalTruncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = Wal(f);
  if (const int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xTruncate(w->real, size);
}

int WalSync(sqlite3_file* f, int flags) {
  WalFile* w = Wal(f);
  if (const int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xSync(w->real, flags);
}

int WalFileSize(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = Wal(f);
  if (const int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileSize(w->real, size);
}

int WalLock(sqlite3_file* f, int level) {
  return Wal(f)->real->pMethods->xLock(Wal(f)->real, level);
}

int WalUnlock(sqlite3_file* f, int level) {
  return Wal(f)->real->pMethods->xUnlock(Wal(f)->real, level);
}

int WalCheckReservedLock(sqlite3_file* f, int* out) {
  return Wal(f)->real->pMethods->xCheckReservedLock(Wal(f)->real, out);
}

int WalFileControl(sqlite3_file* f, int op, void* arg) {
  WalFile* w = Wal(f);
  if (const int rc = Flush(w); rc != SQLITE_OK) return rc;
  return w->real->pMethods->xFileControl(w->real, op, arg);
}

int WalSectorSize(sqlite3_file* f) {
  return Wal(f)->real->pMethods->xSectorSize(Wal(f)->real);
}

int WalDeviceCharacteristics(sqlite3_file* f) {
  return Wal(f)->real->pMethods->xDeviceCharacteristics(Wal(f)->real);
}

// Version 1: SQLite maps shared memory (xShm*) and memory-maps pages
// (xFetch) through the database file only, never through its WAL.
const sqlite3_io_methods kWalMethods = {
    1,           WalClose,     WalRead,    WalWrite,      WalTruncate,    WalSync,
    WalFileSize, WalLock,      WalUnlock,  WalCheckReservedLock,
    WalFileControl, WalSectorSize, WalDeviceCharacteristics,
    nullptr,     nullptr,      nullptr,    nullptr,       nullptr,        nullptr,
};

// The VFS: opening a WAL file wraps it; everything else is the base's.
int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) return g_base->xOpen(g_base, name, file, flags, out_flags);
  WalFile* w = Wal(file);
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + RealOffset());
  w->data = nullptr;
  w->start = 0;
  w->len = 0;
  w->cap = 0;
  const int rc = g_base->xOpen(g_base, name, w->real, flags, out_flags);
  // On failure SQLite calls no method of the file: pMethods stays null.
  w->base.pMethods = rc == SQLITE_OK && w->real->pMethods != nullptr ? &kWalMethods : nullptr;
  return rc;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_base->xFullPathname(g_base, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void DlError(sqlite3_vfs*, int n, char* out) { g_base->xDlError(g_base, n, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_base->xDlSym(g_base, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_base->xDlClose(g_base, handle); }
int Randomness(sqlite3_vfs*, int n, char* out) { return g_base->xRandomness(g_base, n, out); }
int Sleep(sqlite3_vfs*, int us) { return g_base->xSleep(g_base, us); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return g_base->xGetLastError ? g_base->xGetLastError(g_base, n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  if (g_base->iVersion >= 2 && g_base->xCurrentTimeInt64 != nullptr) {
    return g_base->xCurrentTimeInt64(g_base, out);
  }
  double days = 0;
  const int rc = g_base->xCurrentTime(g_base, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

sqlite3_vfs g_vfs;

}  // namespace

const char* WalVfsName() {
  static std::once_flag once;
  static const char* name = nullptr;
  std::call_once(once, [] {
    g_base = sqlite3_vfs_find(nullptr);
    if (g_base == nullptr) return;
    g_vfs = sqlite3_vfs{};
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(RealOffset()) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = "garcon-wal";
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.xAccess = Access;
    g_vfs.xFullPathname = FullPathname;
    g_vfs.xDlOpen = DlOpen;
    g_vfs.xDlError = DlError;
    g_vfs.xDlSym = DlSym;
    g_vfs.xDlClose = DlClose;
    g_vfs.xRandomness = Randomness;
    g_vfs.xSleep = Sleep;
    g_vfs.xCurrentTime = CurrentTime;
    g_vfs.xGetLastError = GetLastError;
    g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    if (sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK) name = g_vfs.zName;
  });
  return name;
}

WalVfsCounts GetWalVfsCounts() {
  return {g_received.load(std::memory_order_relaxed), g_issued.load(std::memory_order_relaxed)};
}

}  // namespace garcon::store
