package dev.sluice.http;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code scope_key_builder}: computes a request's scope key from its headers, one
 * fragment per {@code header_value_extractor}. A fragment that cannot be extracted (header absent,
 * index past the last element, no element with the key) makes the whole key absent: the request
 * matches no scope.
 */
public final class ScopeKeyBuilder {
  private final Extractor[] extractors;

  private ScopeKeyBuilder(Extractor[] extractors) {
    this.extractors = extractors;
  }

  /**
   * @param path the builder's field path, for errors ({@code scoped_routes.scope_key_builder})
   * @throws ConfigException naming the field that cannot be used
   */
  public static ScopeKeyBuilder compile(ScopedRoutes.ScopeKeyBuilder proto, String path) {
    if (proto.getFragmentsCount() == 0) {
      throw new ConfigException(path + ".fragments", "value must contain at least 1 item(s)");
    }
    Extractor[] extractors = new Extractor[proto.getFragmentsCount()];
    for (int i = 0; i < extractors.length; i++) {
      String at = path + ".fragments[" + i + "]";
      if (!proto.getFragments(i).hasHeaderValueExtractor()) {
        throw new ConfigException(at, "header_value_extractor is required");
      }
      extractors[i] = Extractor.compile(proto.getFragments(i).getHeaderValueExtractor(), at + ".header_value_extractor");
    }
    return new ScopeKeyBuilder(extractors);
  }

  /** The request's scope key, or null when a fragment cannot be extracted. */
  public @Nullable ScopeKey key(Http2Headers headers) {
    String[] fragments = new String[extractors.length];
    for (int i = 0; i < extractors.length; i++) {
      String f = extractors[i].extract(headers);
      if (f == null) {
        return null;
      }
      fragments[i] = f;
    }
    return new ScopeKey(List.of(fragments));
  }

  /** One {@code header_value_extractor}: by {@code index} or by {@code element} key. */
  private record Extractor(AsciiString header, String elementSeparator, int index,
      @Nullable String elementKey, String kvSeparator) {

    static Extractor compile(HeaderValueExtractor p, String path) {
      if (p.getName().isEmpty()) {
        throw new ConfigException(path + ".name", "value length must be at least 1 characters");
      }
      AsciiString header = AsciiString.of(p.getName().toLowerCase(Locale.ROOT));
      if (p.hasElement()) {
        if (p.getElement().getKey().isEmpty()) {
          throw new ConfigException(path + ".element.key", "value length must be at least 1 characters");
        }
        if (p.getElement().getSeparator().isEmpty()) {
          throw new ConfigException(path + ".element.separator", "value length must be at least 1 characters");
        }
        return new Extractor(header, p.getElementSeparator(), -1, p.getElement().getKey(), p.getElement().getSeparator());
      }
      if (p.getElementSeparator().isEmpty() && p.getIndex() != 0) {
        throw new ConfigException(path + ".index", "index must be 0 when element_separator is empty");
      }
      return new Extractor(header, p.getElementSeparator(), p.getIndex(), null, "");
    }

    @Nullable String extract(Http2Headers headers) {
      String value = value(headers);
      if (value == null) {
        return null;
      }
      if (elementKey == null) {
        return byIndex(value);
      }
      for (String element : split(value)) {
        if (element.isEmpty()) {
          continue;
        }
        int sep = element.indexOf(kvSeparator);
        // An element without the separator is all key, with an empty value.
        String key = sep < 0 ? element : element.substring(0, sep);
        if (key.equals(elementKey)) {
          return sep < 0 ? "" : element.substring(sep + kvSeparator.length());
        }
      }
      return null;
    }

    /** The header's value; several values are joined with commas first, as Envoy does before splitting. */
    private @Nullable String value(Http2Headers headers) {
      List<CharSequence> all = headers.getAll(header);
      if (all.isEmpty()) {
        return null;
      }
      if (all.size() == 1) {
        return all.getFirst().toString();
      }
      return String.join(",", all);
    }

    private @Nullable String byIndex(String value) {
      if (elementSeparator.isEmpty()) {
        return value;
      }
      int start = 0;
      for (int i = 0; i < index; i++) {
        int next = value.indexOf(elementSeparator, start);
        if (next < 0) {
          return null;
        }
        start = next + elementSeparator.length();
      }
      int end = value.indexOf(elementSeparator, start);
      return end < 0 ? value.substring(start) : value.substring(start, end);
    }

    private List<String> split(String value) {
      if (elementSeparator.isEmpty()) {
        return List.of(value);
      }
      java.util.ArrayList<String> out = new java.util.ArrayList<>();
      int start = 0;
      while (true) {
        int next = value.indexOf(elementSeparator, start);
        if (next < 0) {
          out.add(value.substring(start));
          return out;
        }
        out.add(value.substring(start, next));
        start = next + elementSeparator.length();
      }
    }
  }
}
