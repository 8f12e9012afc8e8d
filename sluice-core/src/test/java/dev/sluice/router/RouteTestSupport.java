package dev.sluice.router;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.stream.StreamInfo;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;

/** Builds route configurations from JSON and requests from a few strings. */
final class RouteTestSupport {
  private RouteTestSupport() {}

  /** The Any types the tests put in typed_per_filter_config. */
  static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(com.google.protobuf.StringValue.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor())
          .build();

  static RouteConfiguration config(String json) {
    RouteConfiguration.Builder b = RouteConfiguration.newBuilder();
    try {
      JsonFormat.parser().usingTypeRegistry(TYPES).merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
    return b.build();
  }

  static RouteTable table(String json) {
    return RouteTable.compile(config(json), RouteCompileContext.DEFAULT);
  }

  /** A table with one catch-all virtual host holding these routes (a JSON array body). */
  static RouteTable routes(String routesJson) {
    return table("{\"virtual_hosts\":[{\"name\":\"vh\",\"domains\":[\"*\"],\"routes\":[" + routesJson + "]}]}");
  }

  static Http2Headers get(String authority, String path) {
    return request("GET", authority, path);
  }

  static Http2Headers request(String method, String authority, String path) {
    return new DefaultHttp2Headers().method(method).scheme("http").authority(authority).path(path);
  }

  static StreamInfo info() {
    return new StreamInfo(0, 0);
  }
}
