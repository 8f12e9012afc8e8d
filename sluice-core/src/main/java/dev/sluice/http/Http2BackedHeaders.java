package dev.sluice.http;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.EmptyHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The header fields of an HTTP/1 message as Netty's HTTP/1 decoder builds them, stored directly in
 * the stream model's {@link Http2Headers} (names lower-cased on insert), so a decoded head needs no
 * copy into the stream model: the connection adds the pseudo-headers to {@link #http2()} and
 * removes the hop-by-hop fields. Names and values are validated as Netty's validating
 * {@code DefaultHttpHeaders} does, so the decoder rejects the same requests. The view's size and
 * lookups cover every field of {@link #http2()}; iteration skips pseudo-headers.
 */
public final class Http2BackedHeaders extends HttpHeaders {
  /** Headers for Netty's HTTP/1 decoders ({@code HttpDecoderConfig.setHeadersFactory}). */
  public static final HttpHeadersFactory FACTORY = new HttpHeadersFactory() {
    @Override
    public HttpHeaders newHeaders() {
      return new Http2BackedHeaders();
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return new Http2BackedHeaders();
    }
  };

  private static final DefaultHttpHeadersFactory VALIDATING = DefaultHttpHeadersFactory.headersFactory().withValidation(true);
  private static final DefaultHeaders.NameValidator<CharSequence> NAME_VALIDATOR = VALIDATING.getNameValidator();
  private static final DefaultHeaders.ValueValidator<CharSequence> VALUE_VALIDATOR = VALIDATING.getValueValidator();
  /** Buckets of the backing map: a power of two, enough for a typical request head. */
  private static final int SIZE_HINT = 16;

  /**
   * The shared empty headers until the first field is added: the decoders make a trailer set for
   * every message with a body, and almost all stay empty.
   */
  private Http2Headers headers = EmptyHttp2Headers.INSTANCE;

  public Http2BackedHeaders() {}

  private Http2BackedHeaders(Http2Headers headers) {
    this.headers = headers;
  }

  /** The stream model's headers holding these fields (for the caller to complete and keep). */
  public Http2Headers http2() {
    return writable();
  }

  private Http2Headers writable() {
    Http2Headers h = headers;
    if (h == EmptyHttp2Headers.INSTANCE) {
      h = headers = new DefaultHttp2Headers(false, SIZE_HINT);
    }
    return h;
  }

  private static AsciiString key(CharSequence name) {
    return HeaderNames.lowerCase(name);
  }

  private static AsciiString validName(CharSequence name) {
    NAME_VALIDATOR.validateName(name);
    return key(name);
  }

  /** As {@code DefaultHttpHeaders}: null refused, a Date or Calendar as an HTTP date, else toString. */
  private static CharSequence validValue(Object value) {
    CharSequence v = switch (Objects.requireNonNull(value, "value")) {
      case CharSequence cs -> cs;
      case Date d -> DateFormatter.format(d);
      case Calendar c -> DateFormatter.format(c.getTime());
      default -> value.toString();
    };
    VALUE_VALIDATOR.validate(v);
    return v;
  }

  private static @Nullable String string(@Nullable CharSequence v) {
    return v == null ? null : v.toString();
  }

  private static boolean pseudo(CharSequence name) {
    return name.length() > 0 && name.charAt(0) == ':';
  }

  // ---------------------------------------------------------------- reads

  @Override
  public @Nullable String get(String name) {
    return string(headers.get(key(name)));
  }

  @Override
  public @Nullable String get(CharSequence name) {
    return string(headers.get(key(name)));
  }

  @Override
  public @Nullable Integer getInt(CharSequence name) {
    return headers.getInt(key(name));
  }

  @Override
  public int getInt(CharSequence name, int defaultValue) {
    return headers.getInt(key(name), defaultValue);
  }

  @Override
  public @Nullable Short getShort(CharSequence name) {
    return headers.getShort(key(name));
  }

  @Override
  public short getShort(CharSequence name, short defaultValue) {
    return headers.getShort(key(name), defaultValue);
  }

  @Override
  public @Nullable Long getTimeMillis(CharSequence name) {
    return headers.getTimeMillis(key(name));
  }

  @Override
  public long getTimeMillis(CharSequence name, long defaultValue) {
    return headers.getTimeMillis(key(name), defaultValue);
  }

  @Override
  public List<String> getAll(String name) {
    return getAll((CharSequence) name);
  }

  @Override
  public List<String> getAll(CharSequence name) {
    AsciiString k = key(name);
    if (!headers.contains(k)) {
      // The decoder asks for Content-Length on every message: no list when there is none.
      return Collections.emptyList();
    }
    List<CharSequence> values = headers.getAll(k);
    List<String> out = new ArrayList<>(values.size());
    for (CharSequence v : values) {
      out.add(v.toString());
    }
    return out;
  }

  @Override
  public Iterator<String> valueStringIterator(CharSequence name) {
    return getAll(name).iterator();
  }

  @Override
  public Iterator<? extends CharSequence> valueCharSequenceIterator(CharSequence name) {
    AsciiString k = key(name);
    return headers.contains(k) ? headers.valueIterator(k) : Collections.emptyIterator();
  }

  @Override
  public List<Map.Entry<String, String>> entries() {
    List<Map.Entry<String, String>> out = new ArrayList<>(headers.size());
    for (Iterator<Map.Entry<String, String>> it = iterator(); it.hasNext(); ) {
      out.add(it.next());
    }
    return out;
  }

  @Override
  public boolean contains(String name) {
    return headers.contains(key(name));
  }

  @Override
  public boolean contains(CharSequence name) {
    return headers.contains(key(name));
  }

  @Override
  public boolean contains(String name, String value, boolean ignoreCase) {
    return contains((CharSequence) name, value, ignoreCase);
  }

  @Override
  public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
    for (Iterator<? extends CharSequence> it = valueCharSequenceIterator(name); it.hasNext(); ) {
      CharSequence v = it.next();
      if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(v, value) : AsciiString.contentEquals(v, value)) {
        return true;
      }
    }
    return false;
  }

  /** As Netty's: some comma-separated element of some value, trimmed, equals {@code value}. */
  @Override
  public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
    for (Iterator<? extends CharSequence> it = valueCharSequenceIterator(name); it.hasNext(); ) {
      if (containsElement(it.next(), value, ignoreCase)) {
        return true;
      }
    }
    return false;
  }

  private static boolean containsElement(CharSequence list, CharSequence expected, boolean ignoreCase) {
    int n = list.length();
    int begin = 0;
    while (begin <= n) {
      int end = begin;
      while (end < n && list.charAt(end) != ',') {
        end++;
      }
      int a = begin;
      int b = end;
      while (a < b && list.charAt(a) <= ' ') {
        a++;
      }
      while (b > a && list.charAt(b - 1) <= ' ') {
        b--;
      }
      if (b - a == expected.length() && AsciiString.regionMatches(list, ignoreCase, a, expected, 0, b - a)) {
        return true;
      }
      if (end == n) {
        return false;
      }
      begin = end + 1;
    }
    return false;
  }

  @Override
  public Iterator<Map.Entry<String, String>> iterator() {
    Iterator<Map.Entry<CharSequence, CharSequence>> it = iteratorCharSequence();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Map.Entry<String, String> next() {
        Map.Entry<CharSequence, CharSequence> e = it.next();
        return new AbstractMap.SimpleImmutableEntry<>(e.getKey().toString(), e.getValue().toString());
      }
    };
  }

  @Override
  public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
    Iterator<Map.Entry<CharSequence, CharSequence>> all = headers.iterator();
    return new Iterator<>() {
      private Map.@Nullable Entry<CharSequence, CharSequence> next = advance();

      private Map.@Nullable Entry<CharSequence, CharSequence> advance() {
        while (all.hasNext()) {
          Map.Entry<CharSequence, CharSequence> e = all.next();
          if (!pseudo(e.getKey())) {
            return e;
          }
        }
        return null;
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public Map.Entry<CharSequence, CharSequence> next() {
        Map.Entry<CharSequence, CharSequence> e = next;
        if (e == null) {
          throw new NoSuchElementException();
        }
        next = advance();
        return e;
      }
    };
  }

  @Override
  public boolean isEmpty() {
    return headers.isEmpty();
  }

  @Override
  public int size() {
    return headers.size();
  }

  @Override
  public Set<String> names() {
    Set<String> out = new LinkedHashSet<>();
    for (CharSequence n : headers.names()) {
      if (!pseudo(n)) {
        out.add(n.toString());
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- writes

  @Override
  public HttpHeaders add(String name, Object value) {
    return add((CharSequence) name, value);
  }

  @Override
  public HttpHeaders add(CharSequence name, Object value) {
    writable().add(validName(name), validValue(value));
    return this;
  }

  @Override
  public HttpHeaders add(String name, Iterable<?> values) {
    return add((CharSequence) name, values);
  }

  @Override
  public HttpHeaders add(CharSequence name, Iterable<?> values) {
    AsciiString k = validName(name);
    for (Object v : values) {
      writable().add(k, validValue(v));
    }
    return this;
  }

  @Override
  public HttpHeaders addInt(CharSequence name, int value) {
    return add(name, Integer.toString(value));
  }

  @Override
  public HttpHeaders addShort(CharSequence name, short value) {
    return add(name, Short.toString(value));
  }

  @Override
  public HttpHeaders set(String name, Object value) {
    return set((CharSequence) name, value);
  }

  @Override
  public HttpHeaders set(CharSequence name, Object value) {
    writable().set(validName(name), validValue(value));
    return this;
  }

  @Override
  public HttpHeaders set(String name, Iterable<?> values) {
    return set((CharSequence) name, values);
  }

  @Override
  public HttpHeaders set(CharSequence name, Iterable<?> values) {
    AsciiString k = validName(name);
    headers.remove(k);
    for (Object v : values) {
      writable().add(k, validValue(v));
    }
    return this;
  }

  @Override
  public HttpHeaders setInt(CharSequence name, int value) {
    return set(name, Integer.toString(value));
  }

  @Override
  public HttpHeaders setShort(CharSequence name, short value) {
    return set(name, Short.toString(value));
  }

  @Override
  public HttpHeaders remove(String name) {
    headers.remove(key(name));
    return this;
  }

  @Override
  public HttpHeaders remove(CharSequence name) {
    headers.remove(key(name));
    return this;
  }

  @Override
  public HttpHeaders clear() {
    headers.clear();
    return this;
  }

  @Override
  public HttpHeaders copy() {
    Http2Headers copy = new DefaultHttp2Headers(false, SIZE_HINT);
    copy.add(headers);
    return new Http2BackedHeaders(copy);
  }
}
