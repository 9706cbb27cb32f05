// One HTTP/1.1 exchange for the `http` step: resolve, connect, TLS handshake
// (certificate and host name verified unless told otherwise), send, read the
// response with a body limit. No redirects (the step follows them), one
// connection per request. Boost.Beast and OpenSSL stay in http_client.cc;
// this header is Asio-light. Runs as a coroutine on the run's io_context
// thread; DNS resolution happens on Asio's resolver thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/cancel.h"
#include "engine/duration.h"
#include "engine/status.h"
#include "steps/http_url.h"

namespace runbook::steps {

struct HttpRequest {
  std::string method = "GET";
  Url url;
  // In order; names as written. Host, User-Agent and Content-Length are
  // added when absent (Content-Length always for a body).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool tls_verify = true;
  size_t body_limit = 16u << 20;
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
};

// Completes with the response, or:
//   Cancelled  when `cancel` fires (every pending operation is aborted at once)
//   IoError    for DNS, connection, TLS and protocol failures, e.g.
//              "cannot connect to 127.0.0.1:9: Connection refused",
//              "TLS certificate of localhost not trusted: self-signed certificate",
//              "response body larger than 16 MiB".
// REQUIRES: `cancel` outlives the call (callbacks connected to it may run
// after it returns; they are then no-ops).
boost::asio::awaitable<Result<HttpResponse>> SendHttpRequest(boost::asio::any_io_executor io, const HttpRequest& req,
                                                             CancelSignal& cancel);

// The cancel signal for one step's exchanges: emitted when the step's
// signal is (timeout, cancel) or, with a `cap`, when that much time has
// passed — the limit of a step without a `timeout`. Safe when the step's
// signal fires after this object is gone.
class HttpStepCancel {
 public:
  HttpStepCancel(boost::asio::any_io_executor io, CancelSignal& step, std::optional<Millis> cap);
  ~HttpStepCancel();
  HttpStepCancel(const HttpStepCancel&) = delete;
  HttpStepCancel& operator=(const HttpStepCancel&) = delete;

  CancelSignal& signal();
  // True if the cap expired (rather than the step's signal firing).
  bool capped() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace runbook::steps
