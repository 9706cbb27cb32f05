// The HTML export's Gantt chart: one inline SVG per run, a row per step, a
// bar per attempt on a time axis relative to the run's start.
#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>

#include "report/html_parts.h"
#include "report/render.h"
#include "report/text.h"

namespace runbook::report::html {

namespace {

constexpr double kWidth = 1000;     // viewBox units; the SVG scales to the page
constexpr double kLabelWidth = 230;
constexpr double kRightPad = 18;
constexpr double kAxisHeight = 26;
constexpr double kRowHeight = 26;
constexpr double kBarHeight = 14;
constexpr size_t kLabelChars = 26;

std::string Num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// The tick spacing: a round step giving at most 8 intervals over `span_us`.
int64_t TickStep(int64_t span_us) {
  static constexpr int64_t kMs = 1000, kS = 1000 * kMs, kM = 60 * kS, kH = 60 * kM, kD = 24 * kH;
  static constexpr int64_t kSteps[] = {kMs, 2 * kMs, 5 * kMs, 10 * kMs, 20 * kMs, 50 * kMs, 100 * kMs, 200 * kMs,
                                       500 * kMs, kS, 2 * kS, 5 * kS, 10 * kS, 15 * kS, 30 * kS, kM, 2 * kM, 5 * kM,
                                       10 * kM, 15 * kM, 30 * kM, kH, 2 * kH, 3 * kH, 6 * kH, 12 * kH, kD, 2 * kD,
                                       7 * kD};
  for (int64_t s : kSteps)
    if (span_us / s <= 8) return s;
  return span_us / 8 + 1;
}

std::string ShortLabel(const std::string& id) {
  if (id.size() <= kLabelChars) return id;
  return Truncate(id, kLabelChars - 1);
}

class Gantt {
 public:
  Gantt(const ExportModel& m, const RunView& v) : m_(m), v_(v) {
    t0_ = v.run.started_at_us;
    int64_t end = v.run.finished_at_us.value_or(t0_);
    auto extend = [&end](std::optional<int64_t> t) {
      if (t && *t > end) end = *t;
    };
    for (const auto& a : v.actions)
      for (const auto& at : a.attempts) {
        extend(at.record.started_at_us);
        extend(at.record.finished_at_us);
      }
    // A run still going extends to its last event; notes added after a run
    // ended are not drawn (the Notes section lists them).
    if (!v.run.finished_at_us) {
      extend(v.events.last_ts_us);
      extend(m.generated_at_us);
    }
    end_ = end;
    span_ = std::max<int64_t>(end_ - t0_, 1000);
    for (size_t i = 0; i < v.actions.size(); ++i) row_of_[v.actions[i].step_id] = i;
  }

  void Write(std::ostream& out) {
    size_t rows = std::max<size_t>(v_.actions.size(), 1);
    double height = kAxisHeight + rows * kRowHeight + 8;
    out << "<svg class=\"gantt\" viewBox=\"0 0 " << Num(kWidth) << " " << Num(height) << "\" role=\"img\" aria-label=\""
        << H("Steps of run " + v_.run.id + " on a time axis") << "\">\n";
    for (size_t i = 0; i < rows; i += 2)
      out << "<rect class=\"row-alt\" x=\"0\" y=\"" << Num(RowTop(i)) << "\" width=\"" << Num(kWidth) << "\" height=\""
          << Num(kRowHeight) << "\"/>\n";
    Axis(out, height);
    if (v_.actions.empty())
      out << "<text class=\"label dim\" x=\"10\" y=\"" << Num(RowTop(0) + 17) << "\">no steps ran</text>\n";
    for (size_t i = 0; i < v_.actions.size(); ++i) Row(out, i, v_.actions[i]);
    Markers(out, height);
    out << "</svg>\n";
  }

 private:
  double RowTop(size_t i) const { return kAxisHeight + static_cast<double>(i) * kRowHeight; }
  double X(int64_t us) const {
    double frac = static_cast<double>(std::clamp<int64_t>(us - t0_, 0, span_)) / static_cast<double>(span_);
    return kLabelWidth + frac * (kWidth - kLabelWidth - kRightPad);
  }

  void Axis(std::ostream& out, double height) {
    int64_t step = TickStep(span_);
    for (int64_t t = 0; t <= span_; t += step) {
      double x = X(t0_ + t);
      out << "<line class=\"grid\" x1=\"" << Num(x) << "\" y1=\"" << Num(kAxisHeight - 4) << "\" x2=\"" << Num(x)
          << "\" y2=\"" << Num(height - 6) << "\"/>";
      out << "<text class=\"tick\" x=\"" << Num(x) << "\" y=\"16\" text-anchor=\"" << (t == 0 ? "start" : "middle")
          << "\">" << (t == 0 ? H(m_.times.TimeOfDay(t0_)) : "+" + FormatSpan(0, t)) << "</text>\n";
    }
    out << "<line class=\"axis\" x1=\"" << Num(kLabelWidth) << "\" y1=\"" << Num(kAxisHeight - 0.5) << "\" x2=\""
        << Num(kWidth - kRightPad) << "\" y2=\"" << Num(kAxisHeight - 0.5) << "\"/>\n";
  }

  void Row(std::ostream& out, size_t i, const Action& a) {
    double top = RowTop(i);
    double bar_y = top + (kRowHeight - kBarHeight) / 2;
    bool ran = !a.attempts.empty();
    out << "<g class=\"step-row\" data-step=\"" << H(a.step_id) << "\"><text class=\"label" << (ran ? "" : " dim")
        << "\" x=\"10\" y=\"" << Num(top + 17) << "\"><title>" << H(a.step_id + (a.title.empty() ? "" : " — " + a.title))
        << "</title>" << H(ShortLabel(a.step_id)) << "</text>\n";
    double last_end = kLabelWidth;
    double first_start = -1;
    for (const auto& v : a.attempts) {
      const auto& at = v.record;
      if (!at.started_at_us) continue;
      int64_t finish = at.finished_at_us.value_or(end_);
      double x = X(*at.started_at_us);
      double w = std::max(3.0, X(finish) - x);
      if (first_start < 0) first_start = x;
      last_end = std::max(last_end, x + w);
      std::string status(journal::ToString(at.status));
      std::string tip = a.step_id + " · attempt " + std::to_string(at.attempt) + " · " + status;
      if (at.exit_code) tip += " · exit " + std::to_string(*at.exit_code);
      tip += " · " + FormatSpan(*at.started_at_us, finish) + "\n" + m_.times.Format(*at.started_at_us) + " → " +
             m_.times.Format(at.finished_at_us, "still running");
      if (!at.error.empty()) tip += "\n" + at.error;
      out << "<rect class=\"bar st-" << ClassWord(status) << "\" x=\"" << Num(x) << "\" y=\"" << Num(bar_y)
          << "\" width=\"" << Num(w) << "\" height=\"" << Num(kBarHeight) << "\" rx=\"3\"><title>" << H(tip)
          << "</title></rect>\n";
    }
    std::string note = ran ? SpanText(a.started_at_us, a.finished_at_us.value_or(end_)) : a.status == "pending" ? "pending" : "not run";
    if (ran && a.status == "skipped") note = "skipped";
    if (ran && a.attempts.size() > 1) note += " · " + std::to_string(a.attempts.size()) + " attempts";
    if (!ran) {
      out << "<text class=\"dur\" x=\"" << Num(kLabelWidth + 6) << "\" y=\"" << Num(top + 17) << "\">" << H(note)
          << "</text>";
    } else if (last_end + 8 + 7.0 * static_cast<double>(note.size()) < kWidth - 4) {
      out << "<text class=\"dur\" x=\"" << Num(last_end + 6) << "\" y=\"" << Num(top + 17) << "\">" << H(note)
          << "</text>";
    } else if (first_start - 8 - 7.0 * static_cast<double>(note.size()) > kLabelWidth) {
      out << "<text class=\"dur\" x=\"" << Num(first_start - 6) << "\" y=\"" << Num(top + 17)
          << "\" text-anchor=\"end\">" << H(note) << "</text>";
    }
    out << "</g>\n";
  }

  void Markers(std::ostream& out, double height) {
    for (const auto& f : m_.findings) {
      if (f.run_id != v_.run.id) continue;
      auto row = row_of_.find(f.step_id);
      if (row == row_of_.end()) continue;
      double x = X(f.ts_us), y = RowTop(row->second) + 5;
      std::string level(journal::ToString(f.level));
      out << "<path class=\"mk sev-" << ClassWord(level) << "\" d=\"M" << Num(x) << " " << Num(y - 5) << " L"
          << Num(x + 5) << " " << Num(y) << " L" << Num(x) << " " << Num(y + 5) << " L" << Num(x - 5) << " " << Num(y)
          << " Z\"><title>" << H(level + " finding: " + f.message + (f.value.empty() ? "" : " (" + f.value + ")"))
          << "</title></path>\n";
    }
    for (const auto& a : m_.approvals) {
      if (a.run_id != v_.run.id) continue;
      auto row = row_of_.find(a.step_id);
      if (row == row_of_.end()) continue;
      std::string decision(journal::ToString(a.decision));
      out << "<circle class=\"mk dec-" << ClassWord(decision) << "\" cx=\"" << Num(X(a.ts_us)) << "\" cy=\""
          << Num(RowTop(row->second) + kRowHeight - 5) << "\" r=\"4.5\"><title>"
          << H(decision + " by " + a.approver + " (" + a.os_user + ") at " + m_.times.Format(a.ts_us) +
               (a.comment.empty() ? "" : ": " + a.comment))
          << "</title></circle>\n";
    }
    for (const auto& n : m_.notes) {
      if (n.run_id != v_.run.id || n.ts_us < t0_ || n.ts_us > end_) continue;
      double x = X(n.ts_us);
      out << "<g><title>" << H("note by " + n.author + " at " + m_.times.Format(n.ts_us) + ": " + n.text)
          << "</title><line class=\"note-line\" x1=\"" << Num(x) << "\" y1=\"" << Num(kAxisHeight) << "\" x2=\""
          << Num(x) << "\" y2=\"" << Num(height - 6) << "\"/><path class=\"note-flag\" d=\"M" << Num(x) << " "
          << Num(kAxisHeight) << " l9 4 l-9 4 Z\"/></g>\n";
    }
  }

  const ExportModel& m_;
  const RunView& v_;
  int64_t t0_ = 0, end_ = 0, span_ = 1;
  std::map<std::string, size_t> row_of_;
};

}  // namespace

std::string H(std::string_view text) { return HtmlEscape(Sanitize(text)); }

std::string ClassWord(std::string_view word) {
  std::string out;
  for (char c : word)
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') out += c;
  return out;
}

void WriteGantt(const ExportModel& model, const RunView& run, std::ostream& out) { Gantt(model, run).Write(out); }

}  // namespace runbook::report::html
