// Creating a database file all at once. Internal to src/store/.
//
// A file created in place is half-made for its first milliseconds (SQLite writes the header, the schema and
// the switch to WAL in steps): a kill then left a file the next command could not tell from another program's.
// So the new file is built under a temporary name in the same directory (`PATH.crashgrid-new-XXXXXX`, locked
// with flock while it is built) and appears at PATH complete, by link(2), which never replaces a file another
// process created meanwhile. A temporary file whose creator died (its lock free) is removed by the next creation.
#pragma once

#include <string>

namespace cg::store_create {

// The temporary names' marker: PATH + kTempInfix + six random characters.
constexpr char kTempInfix[] = ".crashgrid-new-";

// Makes a complete, empty crashgrid database appear at `path`. `replace_empty`: an empty (0-byte) file at
// `path` (made by hand, or by a crashgrid before atomic creation killed at once) is replaced; otherwise a file
// that appears at `path` meanwhile (another sweep created it first) is left as it is and true is returned
// (the caller opens whatever is there). On failure *err says why (without the path).
bool CreateDatabase(const std::string& path, bool replace_empty, std::string* err);

// Removes PATH.crashgrid-new-* files (and their -journal, -wal, -shm) whose creator is gone.
void RemoveStaleTemporaries(const std::string& path);

}  // namespace cg::store_create
