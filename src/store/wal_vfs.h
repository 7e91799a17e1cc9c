// A SQLite VFS that writes each commit's WAL frames with one system call.
//
// SQLite writes a transaction's WAL frames one by one, two write(2) calls
// per frame (its 24-byte header, then the page): a commit of 13 pages is
// 26 calls, about 50 us on the development machine, against 10 us for the
// same bytes written at once (docs/storage.md, "Commits"). This VFS wraps
// the default one; for a WAL file only, it gathers writes that continue
// each other in a buffer and writes the buffer with one call before
// anything that depends on the file's contents: a sync, a read, its size,
// a truncation, a file control, closing it, or a write elsewhere in the
// file. Every other file (the database, a journal) is the default VFS's own.
//
// Only for `synchronous=FULL`, where SQLite syncs the WAL at every commit:
// a commit's frames are then in the file when the commit returns, as
// without this VFS. (Under NORMAL a committed transaction could wait in the
// buffer, which a killed process would lose.)
#ifndef GARCON_STORE_WAL_VFS_H_
#define GARCON_STORE_WAL_VFS_H_

#include <cstdint>

namespace garcon::store {

// The VFS's name, for sqlite3_open_v2; registers it (not as the default) on
// the first call. Null when SQLite has no default VFS to wrap.
const char* WalVfsName();

// What the VFS did since the process started, over every WAL file it
// wrapped: write calls SQLite made, and write calls made to the file.
struct WalVfsCounts {
  std::uint64_t writes_received = 0;
  std::uint64_t writes_issued = 0;
};
WalVfsCounts GetWalVfsCounts();

}  // namespace garcon::store

#endif  // GARCON_STORE_WAL_VFS_H_
