#include "cli/progress.h"

#include <vector>

#include "cli/tail_lines.h"
#include "engine/values.h"

namespace runbook::cli {

namespace {

constexpr size_t kTailLines = 5;  // shown after a failure

void KeepTail(std::string& tail, bool& cut, std::string_view data) {
  if (data.size() >= kTailBytes) {
    tail.assign(data.substr(data.size() - kTailBytes));
    cut = true;
    return;
  }
  tail.append(data);
  if (tail.size() > 2 * kTailBytes) {
    tail.erase(0, tail.size() - kTailBytes);
    cut = true;
  }
}

}  // namespace

std::string TerminalProgress::Paint(const std::string& text, const char* code) const {
  return color_ ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}

// "2026-11-29T13:02:22.097Z", as IsoUtc() writes it; the date and time are
// formatted once per second.
void TerminalProgress::AppendTimestamp(std::string& s) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  const long long second = ms / 1000;
  if (second != stamp_second_ || stamp_prefix_.empty()) {
    std::string iso = IsoUtc(std::chrono::system_clock::time_point(std::chrono::seconds(second)));
    stamp_prefix_ = iso.substr(0, iso.size() - 4);  // without "000Z"
    stamp_second_ = second;
  }
  const int milli = static_cast<int>(ms % 1000);
  s += stamp_prefix_;
  s += static_cast<char>('0' + milli / 100);
  s += static_cast<char>('0' + milli / 10 % 10);
  s += static_cast<char>('0' + milli % 10);
  s += 'Z';
}

// One write per line (std::cerr is unbuffered: every << is a write(2)).
void TerminalProgress::Line(const std::string& text) {
  std::string s;
  s.reserve(text.size() + 32);
  if (live_ && status_shown_) s += "\r\033[K";
  if (!live_) {
    AppendTimestamp(s);
    s += ' ';
  }
  s += text;
  s += '\n';
  std::lock_guard<std::mutex> lock(out_mu_);
  if (prompting_) {
    held_.push_back(std::move(s));
    return;
  }
  status_shown_ = false;
  if (live_) AppendStatus(s);
  out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  out_.flush();
}

void TerminalProgress::SetPrompting(bool on) {
  std::lock_guard<std::mutex> lock(out_mu_);
  prompting_ = on;
  if (on) return;
  // On the prompter's thread: the held lines only (the status line is the
  // run thread's, redrawn at its next tick).
  std::string s;
  for (const auto& line : held_) s += line;
  held_.clear();
  if (s.empty()) return;
  out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  out_.flush();
}

void TerminalProgress::Redraw() {
  std::string s;
  AppendStatus(s);
  if (s.empty()) return;
  std::lock_guard<std::mutex> lock(out_mu_);
  if (prompting_) return;
  out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  out_.flush();
}

void TerminalProgress::AppendStatus(std::string& out) {
  if (!live_ || running_.empty() || prompting_) return;
  auto now = std::chrono::steady_clock::now();
  std::string s;
  for (const auto& [step, r] : running_) {
    const std::string& id = step->id();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - r.since).count();
    s += (s.empty() ? "" : "  ") + id + " " + std::to_string(secs) + "s";
    if (!r.last_line.empty() && running_.size() == 1) s += ": " + r.last_line.substr(0, 60);
  }
  out += "\r\033[K";
  out += Paint("running: ", "36");
  out += s.substr(0, 150);
  status_shown_ = true;
}

std::string TerminalProgress::RunOf(const CompiledStep& step) const {
  for (auto r = runs_.rbegin(); r != runs_.rend(); ++r)
    if (&step >= r->begin && &step < r->end) return r->run_id;
  return "";
}

void TerminalProgress::RunStarted(const std::string& run_id, const CompiledRunbook& rb) {
  RunSteps r{rb.steps.data(), rb.steps.data() + rb.steps.size(), run_id};
  for (const RunSteps& other : runs_)
    if (other.begin == r.begin && other.end == r.end && other.run_id != run_id) r.run_id.clear();
  runs_.push_back(std::move(r));
  Line("run " + run_id + " of " + rb.spec.name + " started (" + std::to_string(rb.steps.size()) + " steps)");
}

void TerminalProgress::StepStarted(const CompiledStep& step, int attempt) {
  running_[&step] = Running{std::chrono::steady_clock::now(), "", attempt};
  tails_.erase(&step);
  Line(Paint("▶ ", "36") + step.id() + (attempt > 1 ? " (attempt " + std::to_string(attempt) + ")" : "") +
       (step.spec->title.empty() ? "" : "  " + step.spec->title));
}

void TerminalProgress::StepOutput(const CompiledStep& step, OutputStream stream, std::string_view data) {
  // Lines are only for the terminal's status line and --show-output; not
  // scanning them otherwise saves a quarter of the CPU of a step that prints
  // hundreds of megabytes.
  if (!show_output_) {
    Tail& t = tails_[&step];
    if (stream == OutputStream::kStderr) KeepTail(t.err, t.err_cut, data);
    else KeepTail(t.out, t.out_cut, data);
    if (!live_) return;
  }
  std::string& partial = partial_[&step];
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
  auto it = running_.find(&step);
  if (it != running_.end() && !last_line.empty()) {
    it->second.last_line = std::move(last_line);
    if (live_) Redraw();
  }
}

void TerminalProgress::StepFinished(const CompiledStep& step, int attempt, StepStatus status, Millis duration,
                                    const std::string& error) {
  running_.erase(&step);
  auto p = partial_.find(&step);
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
  auto t = tails_.find(&step);
  if (t == tails_.end()) return;
  Tail tail = std::move(t->second);
  tails_.erase(t);
  if (status != StepStatus::kFailed && status != StepStatus::kTimedOut) return;
  bool more = false;
  bool from_err = true;
  std::vector<std::string> lines = LastLines(tail.err, tail.err_cut, kTailLines, &more);
  if (lines.empty()) {
    from_err = false;
    lines = LastLines(tail.out, tail.out_cut, kTailLines, &more);
  }
  if (lines.empty()) return;
  const std::string prefix = "  " + step.id() + (from_err ? " ! " : " | ");
  if (more) {
    std::string id = RunOf(step);
    if (id.empty()) id = "RUN";
    Line(prefix + "… (all of it: runbook logs " + id + " " + step.id() + ")");
  }
  for (const std::string& line : lines) Line(prefix + line);
}

void TerminalProgress::StepSkipped(const CompiledStep& step, const std::string& reason) {
  Line(Paint("- ", "90") + step.id() + " skipped: " + reason);
}

void TerminalProgress::Retrying(const CompiledStep& step, int next_attempt, Millis delay) {
  Line(Paint("↻ ", "33") + step.id() + ": attempt " + std::to_string(next_attempt) + " in " + FormatDuration(delay));
}

void TerminalProgress::Notice(const std::string& message) {
  // A prompt written as a YAML block ends in a line break: no empty line after it.
  size_t end = message.find_last_not_of(" \t\r\n");
  Line(Paint("! ", "33") + message.substr(0, end == std::string::npos ? 0 : end + 1));
}

}  // namespace runbook::cli
