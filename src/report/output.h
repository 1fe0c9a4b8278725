// Writing a rendered report to its file: all or nothing, so a crash or a full disk midway never leaves a
// half-written report where a good one was.
#pragma once

#include <string>

namespace cg {

// Writes `data` to `path` through a temporary file in the same directory and a rename. "-" writes to stdout.
// On failure *err names the file and the reason.
bool WriteTextFile(const std::string& path, const std::string& data, std::string* err);

// The same for output written as it is produced (`export` of a million trials): Write buffers and writes
// through, Close makes the file appear at `path` (rename), so a failure midway still leaves no half file.
// Destroyed without Close, the temporary file is removed.
class StreamWriter {
 public:
  StreamWriter() = default;
  ~StreamWriter();
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;

  bool Open(const std::string& path, std::string* err);
  // False once a write failed (Close then says why).
  bool Write(const std::string& data);
  bool Close(std::string* err);

 private:
  bool Flush();
  std::string path_, tmp_path_;  // tmp_path_ empty: writing in place (stdout, a device, a pipe)
  int fd_ = -1;
  bool owns_fd_ = false;
  int errno_ = 0;
  std::string buffer_;
};

}  // namespace cg
