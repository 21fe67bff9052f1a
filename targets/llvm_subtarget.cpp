// The C++ side of llvm_subtarget.h: MCSubtargetInfo and Triple queries that
// the LLVM C API does not offer.  Subtargets are created only with the
// generic CPU ("") or with names already checked against the backend's
// tables, so LLVM never prints a warning from here.
#include "llvm_subtarget.h"

#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Triple.h>

#include <cstring>
#include <memory>
#include <string>

namespace {

void copy_string(char *dst, size_t size, llvm::StringRef s) {
  size_t n = s.size() < size - 1 ? s.size() : size - 1;
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

const llvm::Target *lookup(const std::string &triple) {
  std::string error;
  return llvm::TargetRegistry::lookupTarget(triple, error);
}

std::unique_ptr<llvm::MCSubtargetInfo> subtarget(const char *triple, const char *cpu,
                                                 const char *features) {
  std::string norm = llvm::Triple::normalize(triple);
  const llvm::Target *t = lookup(norm);
  if (!t) return nullptr;
  return std::unique_ptr<llvm::MCSubtargetInfo>(
      t->createMCSubtargetInfo(norm, cpu ? cpu : "", features ? features : ""));
}

}  // namespace

extern "C" void tgt_llvm_set_large_data_threshold(void *tm, unsigned long long bytes) {
  static_cast<llvm::TargetMachine *>(tm)->setLargeDataThreshold(bytes);
}

extern "C" void tgt_llvm_init(void) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
}

extern "C" void tgt_llvm_triple_facts(const char *triple, TgtTripleFacts *out) {
  *out = TgtTripleFacts{};
  std::string norm = llvm::Triple::normalize(triple);
  llvm::Triple t(norm);
  out->has_backend = lookup(norm) != nullptr;
  out->is_x86_64 = t.getArch() == llvm::Triple::x86_64;
  out->is_aarch64 = t.getArch() == llvm::Triple::aarch64;
  out->is_linux = t.isOSLinux();
  out->is_elf = t.isOSBinFormatELF();
  out->ilp32 = t.isX32() || t.getEnvironment() == llvm::Triple::GNUILP32;
  copy_string(out->normalized, sizeof out->normalized, norm);
  copy_string(out->arch, sizeof out->arch, t.getArchName());
  copy_string(out->object_format, sizeof out->object_format,
              llvm::Triple::getObjectFormatTypeName(t.getObjectFormat()));
}

extern "C" int tgt_llvm_cpu_names(const char *triple, const char **names, int max) {
  auto sti = subtarget(triple, "", "");
  if (!sti) return 0;
  int n = 0;
  for (const llvm::SubtargetSubTypeKV &kv : sti->getAllProcessorDescriptions()) {
    if (n < max) names[n] = kv.Key;
    n++;
  }
  return n;
}

extern "C" int tgt_llvm_feature_names(const char *triple, const char **names, int max) {
  auto sti = subtarget(triple, "", "");
  if (!sti) return 0;
  int n = 0;
  for (const llvm::SubtargetFeatureKV &kv : sti->getAllProcessorFeatures()) {
    if (n < max) names[n] = kv.Key;
    n++;
  }
  return n;
}

extern "C" bool tgt_llvm_has_features(const char *triple, const char *cpu, const char *features,
                                      const char *required) {
  auto sti = subtarget(triple, cpu, features);
  return sti && sti->checkFeatures(required);
}
