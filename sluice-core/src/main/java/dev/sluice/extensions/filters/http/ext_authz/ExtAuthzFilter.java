package dev.sluice.extensions.filters.http.ext_authz;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.http.ActiveStream;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One request through Envoy's ext_authz filter. The request is held (headers, and the body up to
 * {@code max_request_bytes} when {@code with_request_body} is set) while the authorization service
 * decides: OK lets it go on with the service's header mutations; a denial answers the service's
 * status (403 by default), headers and body with flag UAEX and details {@code ext_authz_denied}; a
 * failure to get an answer answers {@code status_on_error} (flag UAEX, {@code ext_authz_error})
 * unless {@code failure_mode_allow} lets the request through.
 */
final class ExtAuthzFilter implements HttpFilter, ClusterGrpcCall.Listener<CheckResponse> {
  static final String DETAILS_DENIED = "ext_authz_denied";
  static final String DETAILS_ERROR = "ext_authz_error";
  static final String FAILURE_MODE_ALLOWED_HEADER = "x-envoy-auth-failure-mode-allowed";
  /** {@code google.rpc.Code.OK}: the service allows the request. */
  private static final int GRPC_OK = 0;

  private enum State { IDLE, BUFFERING, CALLING, DONE }

  private final ExtAuthzConfig config;
  private @Nullable HttpFilterCallbacks callbacks;
  private @Nullable Http2Headers requestHeaders;
  private @Nullable ByteArrayOutputStream body;
  private Map<String, String> contextExtensions = Map.of();
  private @Nullable ClusterGrpcCall<CheckResponse> call;
  private State state = State.IDLE;
  /** True while a decode callback of this filter runs: an answer then must not re-enter the chain. */
  private boolean inDecode;
  /** The answer came during {@link #inDecode} and lets the request go on. */
  private boolean continueInline;
  /** Headers the authorization answer puts on the response (OK's response_headers_to_add, or a denial's). */
  private List<HeaderValueOption> responseHeaders = List.of();

  ExtAuthzFilter(ExtAuthzConfig config) {
    this.config = config;
  }

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    this.callbacks = callbacks;
  }

  private HttpFilterCallbacks cb() {
    HttpFilterCallbacks c = callbacks;
    if (c == null) {
      throw new IllegalStateException("setCallbacks was not called");
    }
    return c;
  }

  @Override
  public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    HttpFilterCallbacks c = cb();
    ExtAuthzPerRouteConfig perRoute = perRoute(c);
    if (perRoute != null && perRoute.disabled()) {
      state = State.DONE;
      return FilterStatus.CONTINUE;
    }
    if (!config.enabled(c.streamInfo())) {
      config.stats().disabled.inc();
      state = State.DONE;
      if (config.denyAtDisable()) {
        c.streamInfo().setFlag(ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE);
        c.sendLocalReply(config.statusOnError(), "", ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE, DETAILS_ERROR);
        return FilterStatus.STOP_ITERATION;
      }
      return FilterStatus.CONTINUE;
    }
    requestHeaders = headers;
    if (perRoute != null) {
      contextExtensions = perRoute.contextExtensions();
    }
    boolean bufferBody = config.maxRequestBytes() > 0 && (perRoute == null || !perRoute.disableRequestBodyBuffering());
    if (bufferBody && !endStream) {
      state = State.BUFFERING;
      body = new ByteArrayOutputStream();
      return FilterStatus.STOP_ITERATION;
    }
    return runDecode(() -> check(bufferBody ? new byte[0] : null));
  }

  @Override
  public FilterStatus decodeData(ByteBuf data, boolean endStream) {
    if (state == State.BUFFERING) {
      ByteArrayOutputStream b = body;
      if (b == null) {
        throw new IllegalStateException("buffering without a body");
      }
      int room = config.maxRequestBytes() - b.size();
      int n = Math.min(room, data.readableBytes());
      if (data.readableBytes() > room && !config.allowPartialMessage()) {
        // Envoy lowers the decoder buffer limit to max_request_bytes: a bigger body is refused.
        state = State.DONE;
        cb().sendLocalReply(413, "Payload Too Large", null, "request_payload_too_large");
        return FilterStatus.STOP_ITERATION;
      }
      byte[] bytes = new byte[n];
      data.getBytes(data.readerIndex(), bytes);
      b.writeBytes(bytes);
      if (endStream || b.size() >= config.maxRequestBytes()) {
        return runDecode(() -> check(b.toByteArray()));
      }
      return FilterStatus.STOP_ITERATION;
    }
    return state == State.CALLING ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
  }

  @Override
  public FilterStatus decodeTrailers(Http2Headers trailers) {
    if (state == State.BUFFERING) {
      ByteArrayOutputStream b = body;
      return runDecode(() -> check(b == null ? new byte[0] : b.toByteArray()));
    }
    return state == State.CALLING ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
  }

  /** Runs {@code start} inside a decode callback: an answer arriving before it returns continues inline. */
  private FilterStatus runDecode(Runnable start) {
    inDecode = true;
    continueInline = false;
    try {
      start.run();
    } finally {
      inDecode = false;
    }
    if (state == State.CALLING) {
      return FilterStatus.STOP_ITERATION;
    }
    return continueInline ? FilterStatus.CONTINUE : FilterStatus.STOP_ITERATION;
  }

  private void check(byte @Nullable [] requestBody) {
    HttpFilterCallbacks c = cb();
    Http2Headers headers = requestHeaders;
    if (headers == null) {
      throw new IllegalStateException("no request headers");
    }
    state = State.CALLING;
    body = null;
    CheckRequest request = CheckRequests.build(config, c.connection(), c.streamInfo(), headers, requestBody, contextExtensions);
    ClusterGrpcCall<CheckResponse> started =
        ClusterGrpcCall.start(config.target(), c.connection(), c.eventLoop(), request, CheckResponse.parser(), this);
    if (state == State.CALLING) {
      call = started;
    }
  }

  @Override
  public void onResponse(CheckResponse response) {
    call = null;
    state = State.DONE;
    HttpFilterCallbacks c = cb();
    if (response.hasDynamicMetadata()) {
      c.streamInfo().setDynamicMetadata(ExtAuthzFilterFactory.NAME, response.getDynamicMetadata());
    }
    if (response.getStatus().getCode() == GRPC_OK) {
      config.stats().ok.inc();
      OkHttpResponse ok = response.getOkResponse();
      Http2Headers headers = requestHeaders;
      boolean mutated = false;
      if (headers != null) {
        for (HeaderValueOption h : ok.getHeadersList()) {
          mutated |= apply(headers, h);
        }
        for (String name : ok.getHeadersToRemoveList()) {
          String lower = name.toLowerCase(java.util.Locale.ROOT);
          // Envoy never lets the service remove pseudo-headers or Host.
          if (!lower.startsWith(":") && !lower.equals("host")) {
            mutated |= headers.remove(lower);
          }
        }
      }
      responseHeaders = ok.getResponseHeadersToAddList();
      if (mutated && config.clearRouteCache()) {
        c.clearRouteCache();
      }
      resume(c);
      return;
    }
    config.stats().denied.inc();
    DeniedHttpResponse denied = response.getDeniedResponse();
    int status = denied.hasStatus() && denied.getStatus().getCodeValue() >= 200 ? denied.getStatus().getCodeValue() : 403;
    responseHeaders = denied.getHeadersList();
    c.streamInfo().setFlag(ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE);
    c.sendLocalReply(status, denied.getBody(), ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE, DETAILS_DENIED);
  }

  @Override
  public void onFailure(String reason) {
    call = null;
    state = State.DONE;
    HttpFilterCallbacks c = cb();
    config.stats().error.inc();
    if (config.failureModeAllow()) {
      config.stats().failureModeAllowed.inc();
      Http2Headers headers = requestHeaders;
      if (config.failureModeAllowHeaderAdd() && headers != null) {
        headers.set(FAILURE_MODE_ALLOWED_HEADER, "true");
      }
      resume(c);
      return;
    }
    c.streamInfo().setFlag(ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE);
    c.sendLocalReply(config.statusOnError(), "", ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE, DETAILS_ERROR);
  }

  private void resume(HttpFilterCallbacks c) {
    if (inDecode) {
      continueInline = true;
    } else {
      c.continueDecoding();
    }
  }

  @Override
  public FilterStatus encodeHeaders(Http2Headers headers, boolean endStream) {
    for (HeaderValueOption h : responseHeaders) {
      apply(headers, h);
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public void onDestroy() {
    ClusterGrpcCall<CheckResponse> c = call;
    if (c != null) {
      call = null;
      c.cancel();
    }
  }

  private static @Nullable ExtAuthzPerRouteConfig perRoute(HttpFilterCallbacks c) {
    Route route = c.route();
    if (route == null) {
      return null;
    }
    String name = c instanceof ActiveStream.Slot slot ? slot.filterName() : ExtAuthzFilterFactory.NAME;
    return route.perFilterConfig(name) instanceof ExtAuthzPerRouteConfig p ? p : null;
  }

  /**
   * A header from the authorization service: {@code append: true} adds a value, unset or false
   * replaces (ext_authz's default, unlike elsewhere in Envoy); {@code append_action}
   * {@code ADD_IF_ABSENT} and {@code OVERWRITE_IF_EXISTS} as named.
   *
   * @return whether the headers changed
   */
  private static boolean apply(Http2Headers headers, HeaderValueOption h) {
    String name = h.getHeader().getKey().toLowerCase(java.util.Locale.ROOT);
    if (name.isEmpty()) {
      return false;
    }
    String value = h.getHeader().getValue();
    if (h.hasAppend()) {
      if (h.getAppend().getValue()) {
        headers.add(name, value);
      } else {
        headers.set(name, value);
      }
      return true;
    }
    switch (h.getAppendAction()) {
      case ADD_IF_ABSENT -> {
        if (headers.contains(name)) {
          return false;
        }
        headers.set(name, value);
      }
      case OVERWRITE_IF_EXISTS -> {
        if (!headers.contains(name)) {
          return false;
        }
        headers.set(name, value);
      }
      default -> headers.set(name, value);
    }
    return true;
  }
}
