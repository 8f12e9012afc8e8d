package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.EmptyHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Date;
import java.util.GregorianCalendar;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TimeZone;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link Http2BackedHeaders} against the {@code HttpHeaders} contract, with Netty's validating
 * {@code DefaultHttpHeaders} as the reference: the same operations must give the same answers
 * (names compared in lower case, the one intended difference) and reject the same input.
 */
class Http2BackedHeadersTest {
  private static final List<String> PROBES = List.of("content-length", "Content-Length", "CONTENT-LENGTH",
      "connection", "Connection", "x-multi", "X-Multi", "x-date", "absent", "Absent");

  private static HttpHeaders reference() {
    return DefaultHttpHeadersFactory.headersFactory().newHeaders();
  }

  /** Everything a reader of the headers can observe, names of the entries in lower case. */
  private static List<Object> observe(HttpHeaders h) {
    List<Object> out = new ArrayList<>();
    out.add(h.isEmpty());
    out.add(h.size());
    List<String> entries = new ArrayList<>();
    for (Map.Entry<String, String> e : h) {
      entries.add(e.getKey().toLowerCase(Locale.ROOT) + "=" + e.getValue());
    }
    out.add(entries);
    List<String> csEntries = new ArrayList<>();
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      csEntries.add(e.getKey().toString().toLowerCase(Locale.ROOT) + "=" + e.getValue());
    }
    out.add(csEntries);
    out.add(h.entries().stream().map(e -> e.getKey().toLowerCase(Locale.ROOT) + "=" + e.getValue()).toList());
    out.add(h.names().stream().map(n -> n.toLowerCase(Locale.ROOT)).distinct().sorted().toList());
    for (String name : PROBES) {
      out.add(name + ": get=" + h.get(name) + " getCs=" + h.get((CharSequence) name)
          + " getDefault=" + h.get(name, "dflt")
          + " all=" + h.getAll(name) + " allCs=" + h.getAll((CharSequence) name)
          + " contains=" + h.contains(name) + "/" + h.contains((CharSequence) name)
          + " int=" + h.getInt(name) + "/" + h.getInt(name, -1)
          + " short=" + h.getShort(name) + "/" + h.getShort(name, (short) -1)
          + " time=" + attempt(() -> h.getTimeMillis(name)) + "/" + attempt(() -> h.getTimeMillis(name, -1L)));
      // The order of the value iterators is unspecified (Netty's own yields the newest value first).
      List<String> strings = new ArrayList<>();
      h.valueStringIterator(name).forEachRemaining(strings::add);
      List<String> chars = new ArrayList<>();
      h.valueCharSequenceIterator(name).forEachRemaining(v -> chars.add(v.toString()));
      out.add(name + ": iter=" + strings.stream().sorted().toList() + " csIter=" + chars.stream().sorted().toList());
      for (String value : List.of("5", "close", "CLOSE", "a", "b", "A", "a, b", "c")) {
        out.add(name + "~" + value + ": " + h.contains(name, value, false) + h.contains(name, value, true)
            + h.contains((CharSequence) name, value, false) + h.contains((CharSequence) name, value, true)
            + h.containsValue(name, value, false) + h.containsValue(name, value, true));
      }
    }
    return out;
  }

  /** A value, or the exception thrown for it (Netty's date parsing throws a checked ParseException unchecked). */
  private static Object attempt(java.util.concurrent.Callable<?> call) {
    try {
      return String.valueOf(call.call());
    } catch (Exception e) {
      return e.getClass().getSimpleName();
    }
  }

  /** The observations that differ, as "actual | reference". */
  private static List<String> differences(HttpHeaders actual, HttpHeaders expected) {
    List<Object> a = observe(actual);
    List<Object> e = observe(expected);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).equals(e.get(i))) {
        out.add(a.get(i) + " | " + e.get(i));
      }
    }
    return out;
  }

  private static void assertSameAsReference(Consumer<HttpHeaders> ops) {
    HttpHeaders expected = reference();
    HttpHeaders actual = new Http2BackedHeaders();
    ops.accept(expected);
    ops.accept(actual);
    assertThat(differences(actual, expected)).isEmpty();
    // A copy observes the same, and is independent of its source.
    HttpHeaders copy = actual.copy();
    assertThat(copy).isInstanceOf(Http2BackedHeaders.class);
    assertThat(differences(copy, expected)).isEmpty();
    copy.add("x-only-in-copy", "1");
    assertThat(actual.contains("x-only-in-copy")).isFalse();
  }

  @Test
  void emptyHeadersAnswerLikeEmptyDefaultHeaders() {
    assertSameAsReference(h -> {});
    assertSameAsReference(h -> h.remove("absent").remove((CharSequence) "Absent").clear());
    assertSameAsReference(h -> h.set("x-multi", List.of()));
    Http2BackedHeaders h = new Http2BackedHeaders();
    assertThat(h.iterator().hasNext()).isFalse();
    assertThatThrownBy(() -> h.iterator().next()).isInstanceOf(NoSuchElementException.class);
    assertThat(h.getAll("absent")).isEmpty();
  }

  @Test
  void theBackingMapIsCreatedOnTheFirstFieldOrWhenAsked() {
    Http2BackedHeaders h = new Http2BackedHeaders();
    h.remove("x").clear();
    Http2Headers map = h.http2();
    assertThat(map).isNotSameAs(EmptyHttp2Headers.INSTANCE);
    // The map is writable and it is the view's storage: both see each other's writes.
    map.add("x-from-map", "1");
    assertThat(h.get("X-From-Map")).isEqualTo("1");
    h.add("X-From-View", "2");
    assertThat(h.http2()).isSameAs(map);
    assertThat(map.get("x-from-view")).hasToString("2");

    Http2BackedHeaders added = new Http2BackedHeaders();
    added.add("Host", "a");
    assertThat(added.http2().get("host")).hasToString("a");
  }

  @Test
  void addSetRemoveAndLookupsMatchDefaultHttpHeaders() {
    assertSameAsReference(h -> h.add("Content-Length", "5"));
    assertSameAsReference(h -> h.add("X-Multi", "a").add("x-multi", "b").add("X-MULTI", "a, b"));
    assertSameAsReference(h -> h.add("X-Multi", "a").add("Connection", "close").add("x-multi", "b")
        .set("X-MULTI", "c"));
    assertSameAsReference(h -> h.add("X-Multi", "a").add("x-multi", "b").remove("X-MULTI"));
    assertSameAsReference(h -> h.add("X-Multi", "a").add("Connection", "keep-alive, Close").remove((CharSequence) "x-Multi"));
    assertSameAsReference(h -> h.add("x-multi", List.of("a", "b", "A")).add((CharSequence) "Connection", List.of("close")));
    assertSameAsReference(h -> h.add("x-multi", "z").set("X-Multi", List.of("a", "b")));
    assertSameAsReference(h -> h.add("x-multi", "z").set((CharSequence) "X-Multi", List.of()));
    assertSameAsReference(h -> h.addInt("Content-Length", 5).addShort("x-multi", (short) 7));
    assertSameAsReference(h -> h.setInt("content-length", 12).setShort("X-Multi", (short) -3).setInt("Content-Length", 5));
    assertSameAsReference(h -> h.add("content-length", "not a number").add("x-multi", "70000"));
    assertSameAsReference(h -> h.add("x-multi", 42).add("x-multi", 'c').add("x-multi", new StringBuilder("sb")));
    assertSameAsReference(h -> h.add("x-date", "Sun, 06 Nov 1994 08:49:37 GMT").add("x-multi", "a").clear()
        .add("x-date", "Sun, 06 Nov 1994 08:49:37 GMT"));
    assertSameAsReference(h -> h.add(new AsciiString("X-Multi"), new AsciiString("a")).add("Connection", "close, Upgrade"));
  }

  @Test
  void addAllAndSetAllMatchDefaultHttpHeaders() {
    HttpHeaders source = reference().add("X-Multi", "a").add("x-multi", "b").add("Connection", "close");
    assertSameAsReference(h -> h.add("x-multi", "z").add(source));
    assertSameAsReference(h -> h.add("x-multi", "z").add("content-length", "1").set(source));
    assertSameAsReference(h -> h.add("x-multi", "z").add("content-length", "1").setAll(source));
    HttpHeaders backed = new Http2BackedHeaders().add("X-Multi", "a").add("Connection", "close");
    assertSameAsReference(h -> h.add("content-length", "1").add(backed));
  }

  @Test
  void datesAndCalendarsAreFormattedAsHttpDates() {
    Calendar calendar = new GregorianCalendar(TimeZone.getTimeZone("GMT"), Locale.ROOT);
    calendar.setTimeInMillis(784111777000L);
    assertSameAsReference(h -> h.add("x-date", new Date(784111777000L)));
    assertSameAsReference(h -> h.set("x-date", calendar));
    assertThat(new Http2BackedHeaders().add("x-date", new Date(784111777000L)).get("x-date"))
        .isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
  }

  @Test
  void theCodecHelpersReadTheViewLikeDefaultHeaders() {
    for (Consumer<HttpHeaders> ops : List.<Consumer<HttpHeaders>>of(
        h -> h.add("Content-Length", "12").add("Connection", "Keep-Alive"),
        h -> h.add("Transfer-Encoding", "gzip, Chunked").add("Connection", "close"),
        h -> h.add("Expect", "100-Continue"),
        h -> {})) {
      HttpHeaders expected = reference();
      HttpHeaders actual = new Http2BackedHeaders();
      ops.accept(expected);
      ops.accept(actual);
      for (HttpVersion version : List.of(HttpVersion.HTTP_1_0, HttpVersion.HTTP_1_1)) {
        DefaultHttpRequest e = new DefaultHttpRequest(version, HttpMethod.POST, "/", expected);
        DefaultHttpRequest a = new DefaultHttpRequest(version, HttpMethod.POST, "/", actual);
        assertThat(HttpUtil.getContentLength(a, -1L)).isEqualTo(HttpUtil.getContentLength(e, -1L));
        assertThat(HttpUtil.isKeepAlive(a)).isEqualTo(HttpUtil.isKeepAlive(e));
        assertThat(HttpUtil.isTransferEncodingChunked(a)).isEqualTo(HttpUtil.isTransferEncodingChunked(e));
        assertThat(HttpUtil.is100ContinueExpected(a)).isEqualTo(HttpUtil.is100ContinueExpected(e));
      }
    }
  }

  @Test
  void namesAreStoredInLowerCaseAndPseudoHeadersAreHiddenFromIteration() {
    Http2BackedHeaders h = new Http2BackedHeaders();
    h.add("Content-Type", "text/plain").add("X-Custom-Name", "v");
    assertThat(h.http2().names()).extracting(CharSequence::toString).containsExactly("content-type", "x-custom-name");
    h.http2().status("200");
    assertThat(h.names()).containsExactly("content-type", "x-custom-name");
    assertThat(h.entries()).extracting(Map.Entry::getKey).containsExactly("content-type", "x-custom-name");
    assertThat(h.iteratorAsString()).toIterable().extracting(Map.Entry::getKey)
        .containsExactly("content-type", "x-custom-name");
    // Size and lookups cover every field of the stream model's map (documented).
    assertThat(h.size()).isEqualTo(3);
    assertThat(h.get(":status")).isEqualTo("200");
  }

  @Test
  void removingThroughTheValueIteratorRemovesFromTheMap() {
    HttpHeaders expected = reference();
    Http2BackedHeaders actual = new Http2BackedHeaders();
    for (HttpHeaders h : List.of(expected, actual)) {
      h.add("x-multi", "a").add("x-multi", "b").add("x-multi", "c");
      Iterator<? extends CharSequence> it = h.valueCharSequenceIterator("X-Multi");
      it.next();
      it.remove();
    }
    assertThat(actual.getAll("x-multi")).hasSize(2).isEqualTo(expected.getAll("x-multi"));
    assertThat(actual.http2().getAll("x-multi")).hasSize(2);
  }

  /** Header names across the token rules of RFC 9110 5.1 and the characters around them. */
  private static final List<String> NAMES = List.of("Content-Type", "x-ok", "x_under", "!#$%&'*+-.^_`|~09azAZ",
      "", " ", "bad name", "bad:colon", ":authority", "bad\tname", "x\r\n", "x\n", "x\u0000", "x\u007f",
      "\"quoted\"", "(paren)", "x{", "x}", "x@", "x[", "x]", "x/", "x?", "x=", "x,", "x;", "x\\", "x<", "x>",
      "caf\u00e9", "x\u4e2d", "x\u0001", "x\u000b", "x\u000c");

  /** Field values across RFC 9110 5.5 (VCHAR, obs-text, SP/HTAB inside) and the characters it excludes. */
  private static final List<String> VALUES = List.of("", "plain", "a b", "a\tb", " leading", "trailing ",
      "\tleading-tab", "trailing-tab\t", "a\r\nb", "a\r\n b", "a\nb", "a\rb", "nul\u0000", "del\u007f",
      "obs\u00e9", "obs\u00ff", "wide\u4e2d", "ctrl\u0001", "ctrl\u001f", "vt\u000b", "ff\u000c", "\r\n",
      "end\r\n", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

  private static String outcome(Runnable r) {
    try {
      r.run();
      return "ok";
    } catch (RuntimeException e) {
      return "rejected";
    }
  }

  private static String describe(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      b.append(c < 0x20 || c >= 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return b.append('"').toString();
  }

  @Test
  void validationRejectsWhatDefaultHttpHeadersRejects() {
    List<String> mismatches = new ArrayList<>();
    int rejectedNames = 0;
    int rejectedValues = 0;
    for (String name : NAMES) {
      for (String value : VALUES) {
        List<Consumer<HttpHeaders>> ops = List.of(
            h -> h.add(name, value), h -> h.set(name, value),
            h -> h.add((CharSequence) name, value), h -> h.set((CharSequence) name, value),
            h -> h.add(name, List.of("ok", value)), h -> h.set(name, List.of("ok", value)));
        for (int i = 0; i < ops.size(); i++) {
          Consumer<HttpHeaders> op = ops.get(i);
          HttpHeaders expectedHeaders = reference();
          HttpHeaders actualHeaders = new Http2BackedHeaders();
          String expected = outcome(() -> op.accept(expectedHeaders));
          String actual = outcome(() -> op.accept(actualHeaders));
          if (!expected.equals(actual)) {
            mismatches.add("op " + i + " " + describe(name) + ": " + describe(value) + " reference " + expected + ", backed " + actual);
          } else if (expected.equals("ok") && !differences(actualHeaders, expectedHeaders).isEmpty()) {
            mismatches.add("op " + i + " " + describe(name) + ": " + describe(value) + " stored differently");
          }
        }
        if (value.equals("plain") && outcome(() -> reference().add(name, value)).equals("rejected")) {
          rejectedNames++;
        }
        if (name.equals("x-ok") && outcome(() -> reference().add(name, value)).equals("rejected")) {
          rejectedValues++;
        }
      }
    }
    assertThat(mismatches).isEmpty();
    // The table exercises both outcomes for names and for values.
    assertThat(rejectedNames).isBetween(10, NAMES.size() - 4);
    assertThat(rejectedValues).isBetween(3, VALUES.size() - 4);
  }

  @Test
  void nullsAreRejectedAsByDefaultHttpHeaders() {
    for (Consumer<HttpHeaders> op : List.<Consumer<HttpHeaders>>of(
        h -> h.add("x", (Object) null), h -> h.set("x", (Object) null),
        h -> h.add((String) null, "v"), h -> h.set((CharSequence) null, "v"),
        h -> h.add("x", java.util.Arrays.asList("a", null)))) {
      assertThat(outcome(() -> op.accept(new Http2BackedHeaders()))).isEqualTo(outcome(() -> op.accept(reference())))
          .isEqualTo("rejected");
    }
  }
}
