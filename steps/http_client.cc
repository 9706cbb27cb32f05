#include "steps/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <functional>
#include <memory>
#include <optional>

namespace runbook::steps {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Everything one exchange owns. Shared with the cancel callback (weakly), so
// that a cancel arriving after the exchange is a no-op.
struct Exchange {
  explicit Exchange(asio::any_io_executor ex) : io(ex), resolver(ex), tls_ctx(ssl::context::tls_client) {}

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Aborts whatever is pending and makes every later operation fail.
  void Cancel() {
    cancelled = true;
    resolver.cancel();
    if (abort_resolve) abort_resolve();
    error_code ec;
    if (tls || plain) Lowest().socket().close(ec);
  }

  asio::any_io_executor io;
  tcp::resolver resolver;
  ssl::context tls_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::function<void()> abort_resolve;
  bool cancelled = false;
};

using ResolveHandler = std::function<void(error_code, tcp::resolver::results_type)>;

// async_resolve, raced against a cancel: the system resolver cannot be
// interrupted once getaddrinfo() runs on Asio's resolver thread, so a cancel
// completes the wait at once and the late answer is dropped.
auto ResolveOrAbort(std::shared_ptr<Exchange> x, std::string host, std::string port) {
  return asio::async_initiate<decltype(kTuple), void(error_code, tcp::resolver::results_type)>(
      [x, host = std::move(host), port = std::move(port)](auto handler) {
        using Handler = decltype(handler);
        auto slot = std::make_shared<std::optional<Handler>>(std::move(handler));
        auto complete = [slot](error_code ec, tcp::resolver::results_type r) {
          if (!*slot) return;
          Handler h = std::move(**slot);
          slot->reset();
          std::move(h)(ec, std::move(r));
        };
        x->abort_resolve = [io = x->io, complete] {
          asio::post(io, [complete] { complete(asio::error::operation_aborted, {}); });
        };
        x->resolver.async_resolve(host, port, complete);
      },
      kTuple);
}

bool IsIpLiteral(const Url& url) {
  if (url.ipv6) return true;
  error_code ec;
  (void)asio::ip::make_address_v4(url.host, ec);
  return !ec;
}

std::string Where(const Url& url) { return url.Authority(); }

std::string MiB(size_t n) { return std::to_string(n >> 20) + " MiB"; }

// Sets up certificate and host name verification (or none) and SNI.
Status PrepareTls(Exchange& x, const HttpRequest& req) {
  error_code ec;
  if (req.tls_verify) {
    x.tls_ctx.set_default_verify_paths(ec);
    if (ec) return Status::IoError("cannot load the system's trusted certificates: " + ec.message());
    x.tls_ctx.set_verify_mode(ssl::verify_peer, ec);
  } else {
    x.tls_ctx.set_verify_mode(ssl::verify_none, ec);
  }
  x.tls.emplace(x.io, x.tls_ctx);
  SSL* ssl_handle = x.tls->native_handle();
  const bool ip = IsIpLiteral(req.url);
  if (req.tls_verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, req.url.host.c_str())
                : X509_VERIFY_PARAM_set1_host(param, req.url.host.c_str(), 0);
    if (ok != 1) return Status::IoError("cannot set up host name verification for '" + req.url.host + "'");
  }
  // SNI carries a host name, never an address.
  if (!ip && SSL_set_tlsext_host_name(ssl_handle, req.url.host.c_str()) != 1)
    return Status::IoError("cannot set the TLS server name '" + req.url.host + "'");
  return Status::Ok();
}

http::request<http::string_body> BuildRequest(const HttpRequest& req) {
  http::request<http::string_body> r;
  r.method_string(req.method);
  r.target(req.url.target);
  r.version(11);
  for (const auto& [name, value] : req.headers) r.insert(name, value);
  if (r.find(http::field::host) == r.end()) r.set(http::field::host, req.url.Authority());
  if (r.find(http::field::user_agent) == r.end()) r.set(http::field::user_agent, "runbook");
  r.keep_alive(false);
  r.body() = req.body;
  r.prepare_payload();
  return r;
}

template <class Stream>
asio::awaitable<Result<HttpResponse>> Converse(Exchange& x, Stream& stream, const HttpRequest& req) {
  auto msg = BuildRequest(req);
  auto [wec, written] = co_await http::async_write(stream, msg, kTuple);
  (void)written;
  if (x.cancelled) co_return Status::Cancelled("cancelled");
  if (wec) co_return Status::IoError("sending the request to " + Where(req.url) + " failed: " + wec.message());

  http::response_parser<http::string_body> parser;
  parser.header_limit(64u << 10);
  parser.body_limit(req.body_limit);
  if (req.method == "HEAD") parser.skip(true);
  beast::flat_buffer buffer;
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
  (void)read;
  if (x.cancelled) co_return Status::Cancelled("cancelled");
  if (rec == ssl::error::stream_truncated && parser.is_header_done() && !parser.is_done()) {
    // A TLS peer that closes without close_notify ends an EOF-delimited body.
    parser.put_eof(rec);
  }
  if (rec == http::error::body_limit) co_return Status::IoError("response body larger than " + MiB(req.body_limit));
  if (rec == http::error::end_of_stream)
    co_return Status::IoError(Where(req.url) + " closed the connection without a response");
  if (rec) co_return Status::IoError("reading the response from " + Where(req.url) + " failed: " + rec.message());

  auto& res = parser.get();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.reason = std::string(res.reason());
  for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(res.body());
  co_return out;
}

}  // namespace

asio::awaitable<Result<HttpResponse>> SendHttpRequest(asio::any_io_executor io, const HttpRequest& req,
                                                      CancelSignal& cancel) {
  auto x = std::make_shared<Exchange>(io);
  if (req.url.https()) {
    Status s = PrepareTls(*x, req);
    if (!s.ok()) co_return s;
  } else {
    x->plain.emplace(io);
  }
  cancel.Connect([weak = std::weak_ptr<Exchange>(x)] {
    if (auto strong = weak.lock()) strong->Cancel();
  });
  if (x->cancelled) co_return Status::Cancelled("cancelled");

  auto [rec, endpoints] = co_await ResolveOrAbort(x, req.url.host, std::to_string(req.url.port));
  x->abort_resolve = nullptr;
  if (x->cancelled) co_return Status::Cancelled("cancelled");
  if (rec) co_return Status::IoError("cannot resolve host '" + req.url.host + "': " + rec.message());

  auto [cec, endpoint] = co_await x->Lowest().async_connect(endpoints, kTuple);
  (void)endpoint;
  if (x->cancelled) co_return Status::Cancelled("cancelled");
  if (cec) co_return Status::IoError("cannot connect to " + Where(req.url) + ": " + cec.message());

  Result<HttpResponse> result = Status::Internal("no exchange");
  if (x->tls) {
    auto [hec] = co_await x->tls->async_handshake(ssl::stream_base::client, kTuple);
    if (x->cancelled) co_return Status::Cancelled("cancelled");
    if (hec) {
      long verify = SSL_get_verify_result(x->tls->native_handle());
      if (req.tls_verify && verify != X509_V_OK)
        co_return Status::IoError("TLS certificate of " + req.url.host +
                                  " not trusted: " + X509_verify_cert_error_string(verify));
      co_return Status::IoError("TLS handshake with " + Where(req.url) + " failed: " + hec.message());
    }
    result = co_await Converse(*x, *x->tls, req);
  } else {
    result = co_await Converse(*x, *x->plain, req);
  }
  error_code ignored;
  x->Lowest().socket().close(ignored);
  co_return result;
}

struct HttpStepCancel::State {
  explicit State(asio::any_io_executor io) : timer(io) {}
  CancelSignal signal;
  asio::steady_timer timer;
  bool capped = false;
};

HttpStepCancel::HttpStepCancel(asio::any_io_executor io, CancelSignal& step, std::optional<Millis> cap)
    : state_(std::make_shared<State>(io)) {
  std::weak_ptr<State> weak = state_;
  step.Connect([weak] {
    if (auto s = weak.lock()) s->signal.Emit();
  });
  if (cap) {
    state_->timer.expires_after(*cap);
    state_->timer.async_wait([weak](error_code ec) {
      auto s = weak.lock();
      if (ec || !s) return;
      s->capped = !s->signal.emitted();
      s->signal.Emit();
    });
  }
}

HttpStepCancel::~HttpStepCancel() { state_->timer.cancel(); }

CancelSignal& HttpStepCancel::signal() { return state_->signal; }
bool HttpStepCancel::capped() const { return state_->capped; }

}  // namespace runbook::steps
