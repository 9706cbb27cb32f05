#include "cli/progress.h"

#include "engine/values.h"

namespace runbook::cli {

std::string TerminalProgress::Paint(const std::string& text, const char* code) const {
  return color_ ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}

void TerminalProgress::Line(const std::string& text) {
  if (live_ && status_shown_) out_ << "\r\033[K";
  if (live_)
    out_ << text << "\n";
  else
    out_ << IsoUtc(std::chrono::system_clock::now()) << " " << text << "\n";
  status_shown_ = false;
  if (live_) Redraw();
  out_.flush();
}

void TerminalProgress::Redraw() {
  if (!live_ || running_.empty() || prompting_) return;
  auto now = std::chrono::steady_clock::now();
  std::string s;
  for (const auto& [id, r] : running_) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - r.since).count();
    s += (s.empty() ? "" : "  ") + id + " " + std::to_string(secs) + "s";
    if (!r.last_line.empty() && running_.size() == 1) s += ": " + r.last_line.substr(0, 60);
  }
  out_ << "\r\033[K" << Paint("running: ", "36") << s.substr(0, 150);
  out_.flush();
  status_shown_ = true;
}

void TerminalProgress::RunStarted(const std::string& run_id, const CompiledRunbook& rb) {
  Line("run " + run_id + " of " + rb.spec.name + " started (" + std::to_string(rb.steps.size()) + " steps)");
}

void TerminalProgress::StepStarted(const CompiledStep& step, int attempt) {
  running_[step.id()] = Running{std::chrono::steady_clock::now(), "", attempt};
  Line(Paint("▶ ", "36") + step.id() + (attempt > 1 ? " (attempt " + std::to_string(attempt) + ")" : "") +
       (step.spec->title.empty() ? "" : "  " + step.spec->title));
}

void TerminalProgress::StepOutput(const CompiledStep& step, OutputStream stream, std::string_view data) {
  std::string& partial = partial_[step.id()];
  partial.append(data);
  // One pass over the complete lines, one erase at the end: erasing line by
  // line is quadratic in the chunk size (a 64 KiB chunk of short lines cost
  // ~100 MB of memmove).
  size_t start = 0, nl;
  std::string_view last;
  while ((nl = partial.find('\n', start)) != std::string::npos) {
    std::string_view line(partial.data() + start, nl - start);
    if (show_output_)
      Line("  " + step.id() + (stream == OutputStream::kStderr ? " ! " : " | ") + std::string(line));
    if (!line.empty()) last = line;
    start = nl + 1;
  }
  std::string last_line(last.substr(0, 4096));
  partial.erase(0, start);
  if (partial.size() > 4096) partial.erase(0, partial.size() - 4096);
  auto it = running_.find(step.id());
  if (it != running_.end() && !last_line.empty()) {
    it->second.last_line = std::move(last_line);
    if (live_) Redraw();
  }
}

void TerminalProgress::StepFinished(const CompiledStep& step, int attempt, StepStatus status, Millis duration,
                                    const std::string& error) {
  running_.erase(step.id());
  auto p = partial_.find(step.id());
  if (p != partial_.end()) {
    if (show_output_ && !p->second.empty()) Line("  " + step.id() + " | " + p->second);
    partial_.erase(p);
  }
  const char* color = status == StepStatus::kSucceeded ? "32" : status == StepStatus::kCancelled ? "33" : "31";
  const char* mark = status == StepStatus::kSucceeded ? "✔ " : status == StepStatus::kCancelled ? "■ " : "✘ ";
  std::string text = Paint(mark, color) + step.id() + " " + Paint(StepStatusName(status), color) + " in " +
                     FormatDuration(duration);
  if (attempt > 1) text += " (attempt " + std::to_string(attempt) + ")";
  if (!error.empty() && status != StepStatus::kSucceeded) text += ": " + error;
  Line(text);
}

void TerminalProgress::StepSkipped(const CompiledStep& step, const std::string& reason) {
  Line(Paint("- ", "90") + step.id() + " skipped: " + reason);
}

void TerminalProgress::Retrying(const CompiledStep& step, int next_attempt, Millis delay) {
  Line(Paint("↻ ", "33") + step.id() + ": attempt " + std::to_string(next_attempt) + " in " + FormatDuration(delay));
}

void TerminalProgress::Notice(const std::string& message) { Line(Paint("! ", "33") + message); }

}  // namespace runbook::cli
