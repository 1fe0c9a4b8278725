// Turning one address inside a libdwfl module into a Frame: module path, build-id, offset from the load base
// and the nearest symbol. Shared by live unwinding (unwind.cc) and offline symbolization of handler frames.
#pragma once

#include <elfutils/libdwfl.h>

#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>
#include <string>

#include "trial/trial.h"

namespace cg {

struct DwflCloser {
  void operator()(Dwfl* d) const {
    if (d) dwfl_end(d);
  }
};
using DwflPtr = std::unique_ptr<Dwfl, DwflCloser>;

// The find_debuginfo callback every Dwfl of crashgrid uses: dwfl_standard_find_debuginfo (build-id tree,
// .gnu_debuglink, /usr/lib/debug), except that it never reaches a debuginfod server. Debian's
// /etc/profile.d/debuginfod.sh exports DEBUGINFOD_URLS for login shells, and a network download in the
// middle of a crash capture would hold a stopped process for seconds.
int FindLocalDebuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                       const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                       char** debuginfo_file_name);

// Describes addresses of one Dwfl as Frames, remembering what it looked up. "Load base" is the start of the
// module's lowest mapping (its first PT_LOAD, page-aligned), so `offset` equals st_value + distance for a
// shared library and is the same in every process that maps the file. `activation` is false for return
// addresses: their symbol is looked up at pc - 1 (the call instruction), as eu-stack and gdb do, so a call
// that ends a function is not blamed on the next one.
// Symbols come from the same table dwfl_module_addrinfo reads (dwfl_module_getsymtab: .symtab of the file or
// its debug file, else .dynsym), but through a per-module index sorted by address: addrinfo scans the whole
// table on every call (tens of thousands of entries for libc with its debug file, more for a big
// executable), which made a 64-thread capture cost half a second. Addresses the index cannot settle (no
// sized symbol covers them) still go to addrinfo. Each answer is memoized: threads sit at few addresses.
// `file` and `line` come from the module's DWARF line table (dwfl_module_getsrc), at the same address as the
// symbol (pc - 1 for return addresses: the call's line), for modules built with -g: those whose own file has
// a .debug_line section. A separate debug file (a distribution's libc6-dbg) is not read for lines: finding a
// CU in libc's took 70-100 ms per capture on the 2-core VM, with every thread of the process stopped.
// `exported` is read from the module's own .dynsym (the file's, never a debug file's), indexed once per
// module: a symbol is exported when .dynsym defines a GLOBAL, WEAK or unique symbol of default or protected
// visibility at its start address. With .symtab present, a static or hidden function has no such entry.
class AddressDescriber {
 public:
  void Describe(Dwfl_Module* mod, Dwarf_Addr pc, bool activation, Frame* frame);

 private:
  struct ModuleInfo {
    std::string name;
    Dwarf_Addr start = 0;
    std::string build_id;
  };
  struct SymbolInfo {
    std::string name;  // demangled, "" if none
    Dwarf_Addr start = 0;
    bool exported = false;
    std::string file;  // from the line table, "" without DWARF
    int line = 0;
  };
  struct IndexedSymbol {
    Dwarf_Addr start = 0;
    Dwarf_Addr size = 0;
    int rank = 0;        // 0 global, 1 weak, 2 local: the binding addrinfo prefers among aliases
    const char* name;    // owned by libdwfl for the Dwfl's lifetime
  };
  const ModuleInfo& Module(Dwfl_Module* mod);
  const std::vector<IndexedSymbol>& Index(Dwfl_Module* mod);
  const std::unordered_set<Dwarf_Addr>& Exports(Dwfl_Module* mod);
  SymbolInfo Lookup(Dwfl_Module* mod, Dwarf_Addr addr);
  void LookupLine(Dwfl_Module* mod, Dwarf_Addr addr, SymbolInfo* info);
  bool HasOwnLineTable(Dwfl_Module* mod);
  std::unordered_map<Dwfl_Module*, bool> own_lines_;
  std::unordered_map<Dwfl_Module*, ModuleInfo> modules_;
  std::unordered_map<Dwfl_Module*, std::vector<IndexedSymbol>> index_;
  std::unordered_map<Dwfl_Module*, std::unordered_set<Dwarf_Addr>> exports_;
  std::map<std::pair<Dwfl_Module*, Dwarf_Addr>, SymbolInfo> symbols_;
};

// "ab12..." for a module's GNU build-id, "" when it has none.
std::string ModuleBuildId(Dwfl_Module* mod);

// Demangles C++ names; anything else comes back unchanged.
std::string Demangle(const char* name);

}  // namespace cg
