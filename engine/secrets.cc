#include "engine/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace runbook {

ResolvedSecrets ResolveSecrets(const RunbookSpec& spec, Diagnostics& diags) {
  ResolvedSecrets out;
  for (const auto& s : spec.secrets) {
    std::string ctx = "secret '" + s.name + "': ";
    if (!s.env.empty()) {
      const char* v = std::getenv(s.env.c_str());
      if (!v) {
        out.missing[s.name] = "environment variable " + s.env + " is not set";
        continue;
      }
      out.values[s.name] = v;
      continue;
    }
    int fd = open(s.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT)
        out.missing[s.name] = "file " + s.file + " does not exist";
      else
        diags.Error(s.loc, ctx + "cannot read " + s.file + ": " + strerror(errno));
      continue;
    }
    struct stat st {};
    fstat(fd, &st);
    if (!S_ISREG(st.st_mode)) {
      close(fd);
      diags.Error(s.loc, ctx + s.file + " is not a regular file");
      continue;
    }
    if (st.st_mode & 077) {
      close(fd);
      char mode[8];
      snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      diags.Error(s.loc, ctx + s.file + " is readable by others than its owner (mode " + mode + "); run chmod 600 " +
                             s.file);
      continue;
    }
    std::string value;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 && value.size() < (1u << 20)) value.append(buf, static_cast<size_t>(n));
    close(fd);
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    out.values[s.name] = value;
  }
  return out;
}

}  // namespace runbook
