#include "capture/symbolize.h"

#include <cxxabi.h>
#include <fcntl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "capture/unwind.h"
#include "util/fd.h"

namespace cg {

int FindLocalDebuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                       const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                       char** debuginfo_file_name) {
  // dwfl_standard_find_debuginfo asks debuginfod only as its last resort and only when DEBUGINFOD_URLS is
  // set; in that case stay with the local build-id tree (/usr/lib/debug/.build-id), which is where
  // distribution -dbg/-dbgsym packages put their files anyway.
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  if (urls != nullptr && urls[0] != '\0') {
    return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                        debuglink_crc, debuginfo_file_name);
  }
  return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                      debuglink_crc, debuginfo_file_name);
}

std::string Demangle(const char* name) {
  if (name == nullptr) return "";
  if (name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status == 0 && out != nullptr) {
      std::string s(out);
      std::free(out);
      return s;
    }
    std::free(out);
  }
  return name;
}

std::string ModuleBuildId(Dwfl_Module* mod) {
  // The note is read from the ELF file; make sure it is open (dwfl_module_build_id returns 0 before that).
  Dwarf_Addr bias = 0;
  dwfl_module_getelf(mod, &bias);
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int len = dwfl_module_build_id(mod, &bits, &vaddr);
  std::string hex;
  for (int i = 0; i < len; ++i) hex += fmt::format("{:02x}", bits[i]);
  return hex;
}

const AddressDescriber::ModuleInfo& AddressDescriber::Module(Dwfl_Module* mod) {
  auto it = modules_.find(mod);
  if (it != modules_.end()) return it->second;
  ModuleInfo info;
  const char* name = dwfl_module_info(mod, nullptr, &info.start, nullptr, nullptr, nullptr, nullptr, nullptr);
  info.name = name ? name : "";
  info.build_id = ModuleBuildId(mod);
  return modules_.emplace(mod, std::move(info)).first->second;
}

const std::vector<AddressDescriber::IndexedSymbol>& AddressDescriber::Index(Dwfl_Module* mod) {
  auto it = index_.find(mod);
  if (it != index_.end()) return it->second;
  std::vector<IndexedSymbol> symbols;
  int n = dwfl_module_getsymtab(mod);
  for (int i = 1; i < n; ++i) {
    GElf_Sym sym;
    GElf_Addr addr = 0;
    GElf_Word shndx = 0;
    const char* name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, nullptr, nullptr);
    if (name == nullptr || name[0] == '\0' || sym.st_shndx == SHN_UNDEF || sym.st_size == 0) continue;
    int type = GELF_ST_TYPE(sym.st_info);
    if (type == STT_SECTION || type == STT_FILE || type == STT_TLS) continue;
    int bind = GELF_ST_BIND(sym.st_info);
    int rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
    symbols.push_back({addr, sym.st_size, rank, name});
  }
  std::stable_sort(symbols.begin(), symbols.end(), [](const IndexedSymbol& a, const IndexedSymbol& b) {
    return a.start != b.start ? a.start < b.start : a.rank < b.rank;
  });
  return index_.emplace(mod, std::move(symbols)).first->second;
}

const std::unordered_set<Dwarf_Addr>& AddressDescriber::Exports(Dwfl_Module* mod) {
  auto it = exports_.find(mod);
  if (it != exports_.end()) return it->second;
  std::unordered_set<Dwarf_Addr> starts;
  // The file itself, not the debug file getsymtab may have read: .dynsym is what the dynamic linker
  // resolves against, so it is the library's interface whatever .symtab says.
  Dwarf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(mod, &bias);
  Elf_Scn* scn = nullptr;
  while (elf != nullptr && (scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_DYNSYM || shdr.sh_entsize == 0) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    size_t count = shdr.sh_size / shdr.sh_entsize;
    for (size_t i = 1; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr || sym.st_shndx == SHN_UNDEF) continue;
      int bind = GELF_ST_BIND(sym.st_info);
      int type = GELF_ST_TYPE(sym.st_info);
      int vis = GELF_ST_VISIBILITY(sym.st_other);
      if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) continue;
      if (vis != STV_DEFAULT && vis != STV_PROTECTED) continue;
      if (type == STT_SECTION || type == STT_FILE || type == STT_TLS) continue;
      starts.insert(sym.st_value + bias);
    }
    break;  // one .dynsym per file
  }
  return exports_.emplace(mod, std::move(starts)).first->second;
}

AddressDescriber::SymbolInfo AddressDescriber::Lookup(Dwfl_Module* mod, Dwarf_Addr addr) {
  SymbolInfo info;
  const std::vector<IndexedSymbol>& index = Index(mod);
  // The symbols starting at the greatest address <= addr; the best-ranked one that covers addr wins.
  auto after = std::upper_bound(index.begin(), index.end(), addr,
                                [](Dwarf_Addr a, const IndexedSymbol& s) { return a < s.start; });
  if (after != index.begin()) {
    Dwarf_Addr start = std::prev(after)->start;
    for (auto s = std::lower_bound(index.begin(), after, start,
                                   [](const IndexedSymbol& s, Dwarf_Addr a) { return s.start < a; });
         s != after; ++s) {
      if (addr < s->start + s->size) {
        info.name = Demangle(s->name);
        info.start = s->start;
        info.exported = Exports(mod).count(info.start) > 0;
        return info;
      }
    }
  }
  // Sizeless symbols, symbols nested in larger ones: leave those rules to libdwfl.
  GElf_Off sym_off = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(mod, addr, &sym_off, &sym, nullptr, nullptr, nullptr);
  if (name != nullptr && name[0] != '\0') {
    info.name = Demangle(name);
    info.start = addr - sym_off;
    info.exported = Exports(mod).count(info.start) > 0;
  }
  return info;
}

void AddressDescriber::Describe(Dwfl_Module* mod, Dwarf_Addr pc, bool activation, Frame* frame) {
  frame->pc = pc;
  if (mod == nullptr) return;
  const ModuleInfo& m = Module(mod);
  frame->module = m.name;
  frame->offset = pc - m.start;
  frame->build_id = m.build_id;
  Dwarf_Addr lookup = activation || pc == 0 ? pc : pc - 1;
  auto key = std::make_pair(mod, lookup);
  auto it = symbols_.find(key);
  if (it == symbols_.end()) {
    SymbolInfo info = Lookup(mod, lookup);
    LookupLine(mod, lookup, &info);
    it = symbols_.emplace(key, std::move(info)).first;
  }
  if (!it->second.name.empty()) {
    frame->symbol = it->second.name;
    frame->symbol_offset = pc - it->second.start;
    frame->exported = it->second.exported;
  }
  frame->file = it->second.file;
  frame->line = it->second.line;
}

bool AddressDescriber::HasOwnLineTable(Dwfl_Module* mod) {
  auto it = own_lines_.find(mod);
  if (it != own_lines_.end()) return it->second;
  bool found = false;
  Dwarf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(mod, &bias);  // the file itself, never a debug file
  size_t shstrndx = 0;
  if (elf != nullptr && elf_getshdrstrndx(elf, &shstrndx) == 0) {
    Elf_Scn* scn = nullptr;
    while (!found && (scn = elf_nextscn(elf, scn)) != nullptr) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) continue;
      const char* name = elf_strptr(elf, shstrndx, shdr.sh_name);
      found = name != nullptr && std::strcmp(name, ".debug_line") == 0;
    }
  }
  return own_lines_.emplace(mod, found).first->second;
}

void AddressDescriber::LookupLine(Dwfl_Module* mod, Dwarf_Addr addr, SymbolInfo* info) {
  if (!HasOwnLineTable(mod)) return;
  Dwfl_Line* line = dwfl_module_getsrc(mod, addr);
  if (line == nullptr) return;
  int lineno = 0;
  const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
  if (file == nullptr || file[0] == '\0' || lineno <= 0) return;
  info->file = file;
  info->line = lineno;
}

namespace {

char* g_offline_debuginfo_path = nullptr;  // Dwfl_Callbacks keeps a pointer to it: the default search path
const Dwfl_Callbacks kOfflineCallbacks = {
    .find_elf = nullptr,  // modules are reported with their file names, never looked up
    .find_debuginfo = FindLocalDebuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &g_offline_debuginfo_path,
};

}  // namespace

void SymbolizeOffline(std::vector<Frame>* frames) {
  DwflPtr dwfl(dwfl_begin(&kOfflineCallbacks));
  if (!dwfl) return;
  // Each file is placed at address 0 (ET_DYN) or at its link address (ET_EXEC); either way the module's start
  // is its load base, so start + offset is the address the frame had in the process.
  std::map<std::string, Dwfl_Module*> modules;
  dwfl_report_begin(dwfl.get());
  for (const Frame& f : *frames) {
    if (f.module.empty() || modules.count(f.module)) continue;
    Dwfl_Module* mod = nullptr;
    ScopedFd fd(::open(f.module.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.is_open()) {
      // On success libdwfl owns the descriptor.
      mod = dwfl_report_elf(dwfl.get(), f.module.c_str(), f.module.c_str(), fd.get(), 0, false);
      if (mod != nullptr) fd.release();
    }
    modules[f.module] = mod;
  }
  dwfl_report_end(dwfl.get(), nullptr, nullptr);
  AddressDescriber describer;
  for (size_t i = 0; i < frames->size(); ++i) {
    Frame& f = (*frames)[i];
    auto it = modules.find(f.module);
    if (it == modules.end() || it->second == nullptr) continue;
    Dwarf_Addr start = 0;
    dwfl_module_info(it->second, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr);
    Frame described;
    // The handler's first frame is the interrupted instruction; the rest are return addresses.
    describer.Describe(it->second, start + f.offset, /*activation=*/i == 0, &described);
    f.build_id = described.build_id;
    f.symbol = described.symbol;
    f.symbol_offset = described.symbol_offset;
    f.exported = described.exported;
    f.file = described.file;
    f.line = described.line;
  }
}

}  // namespace cg
