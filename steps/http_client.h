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
#include <string>
#include <utility>
#include <vector>

#include "engine/cancel.h"
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

}  // namespace runbook::steps
