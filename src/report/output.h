// Writing a rendered report to its file: all or nothing, so a crash or a full disk midway never leaves a
// half-written report where a good one was.
#pragma once

#include <memory>
#include <string>

namespace cg {

// Writes `data` to `path` through an unnamed file (O_TMPFILE) linked into place when complete, so that even a
// SIGKILL midway leaves nothing behind (a temporary file and a rename where O_TMPFILE is unsupported). An
// existing file is replaced atomically. "-" writes to stdout.
// On failure *err names the file and the reason.
bool WriteTextFile(const std::string& path, const std::string& data, std::string* err);

// The same for output written as it is produced (`export` of a million trials): Write buffers and writes
// through, Close makes the file appear at `path`, so a failure or a kill midway leaves no half file and no
// temporary. Destroyed without Close, nothing appears.
class PendingFile;

class StreamWriter {
 public:
  StreamWriter();
  ~StreamWriter();
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  bool Open(const std::string& path, std::string* err);
  // False once a write failed (Close then says why).
  bool Write(const std::string& data);
  bool Close(std::string* err);

 private:
  bool Flush();
  std::string path_;
  std::unique_ptr<PendingFile> file_;  // null: writing in place (stdout, a device, a pipe)
  int fd_ = -1;
  bool owns_fd_ = false;  // fd_ is a device's or a pipe's, opened here
  int errno_ = 0;
  std::string buffer_;
};

}  // namespace cg
