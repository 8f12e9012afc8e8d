package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** {@link HeaderNames#lowerCase}: known names to their shared constant, any other name lowered. */
class HeaderNamesTest {

  /** The lower-case, non-pseudo name constants of Netty's {@link HttpHeaderNames} and {@link Headers}. */
  private static List<AsciiString> knownNames() throws IllegalAccessException {
    List<AsciiString> out = new ArrayList<>();
    for (Class<?> holder : List.of(HttpHeaderNames.class, Headers.class)) {
      for (Field f : holder.getFields()) {
        if (Modifier.isStatic(f.getModifiers()) && f.getType() == AsciiString.class) {
          AsciiString name = (AsciiString) f.get(null);
          if (!name.isEmpty() && name.byteAt(0) != ':' && name.equals(name.toLowerCase())) {
            out.add(name);
          }
        }
      }
    }
    return out;
  }

  /** The spellings of {@code name} a peer may send: lower, upper, title case and two alternations. */
  private static List<String> caseMixes(String name) {
    StringBuilder title = new StringBuilder();
    StringBuilder odd = new StringBuilder();
    StringBuilder even = new StringBuilder();
    boolean start = true;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      title.append(start ? Character.toUpperCase(c) : c);
      start = c == '-';
      odd.append(i % 2 == 1 ? Character.toUpperCase(c) : c);
      even.append(i % 2 == 0 ? Character.toUpperCase(c) : c);
    }
    return List.of(name, name.toUpperCase(Locale.ROOT), title.toString(), odd.toString(), even.toString());
  }

  /** Calls the byte overload with the name inside a larger buffer, as the parser's line buffer holds it. */
  private static AsciiString fromBytes(String name) {
    byte[] line = ("XX" + name + ": value").getBytes(StandardCharsets.US_ASCII);
    return HeaderNames.lowerCase(line, 2, name.length());
  }

  @Test
  void everyCaseMixOfAKnownNameMapsToOneSharedConstant() throws Exception {
    List<AsciiString> known = knownNames();
    assertThat(known).hasSizeGreaterThan(50);
    for (AsciiString name : known) {
      AsciiString shared = HeaderNames.lowerCase(name);
      assertThat((Object) shared).as(name.toString()).isEqualTo(name);
      for (String spelling : caseMixes(name.toString())) {
        assertThat((Object) HeaderNames.lowerCase(spelling)).as(spelling).isSameAs(shared);
        assertThat((Object) HeaderNames.lowerCase(new AsciiString(spelling))).as(spelling).isSameAs(shared);
        assertThat((Object) fromBytes(spelling)).as(spelling).isSameAs(shared);
      }
    }
  }

  @Test
  void theListedExtraNamesAreShared() {
    for (String name : List.of("X-B3-TraceId", "traceparent", "X-Forwarded-Host", "Strict-Transport-Security",
        "X-Envoy-Peer-Metadata-Id")) {
      AsciiString shared = HeaderNames.lowerCase(name.toLowerCase(Locale.ROOT));
      assertThat((Object) fromBytes(name)).isSameAs(shared).isEqualTo(AsciiString.of(name.toLowerCase(Locale.ROOT)));
      assertThat((Object) HeaderNames.lowerCase(name)).isSameAs(shared);
    }
  }

  @Test
  void unknownNamesAreLoweredCopies() {
    for (String name : List.of("X-My-Header", "X-MY-HEADER", "x-my-header", "Content", "Content-Lengths",
        "Content-Lengt", "ACCEPT_ENCODING", "X-123.ABC~Z!#$%&'*+^`|", "a", "Z")) {
      AsciiString lower = new AsciiString(name.toLowerCase(Locale.ROOT));
      AsciiString fromChars = HeaderNames.lowerCase(name);
      AsciiString fromBytes = fromBytes(name);
      assertThat((Object) fromChars).as(name).isEqualTo(lower);
      assertThat((Object) fromBytes).as(name).isEqualTo(lower);
      assertThat(fromBytes.length()).isEqualTo(name.length());
    }
  }

  @Test
  void onlyAsciiLettersChangeCase() {
    // Token characters next to the letter ranges ('@' 0x40, '[' 0x5B, '`' 0x60, '{' 0x7B) stay as they are.
    assertThat((Object) fromBytes("A@Z[`{")).isEqualTo(new AsciiString("a@z[`{"));
    assertThat((Object) HeaderNames.lowerCase("A@Z[`{")).isEqualTo(new AsciiString("a@z[`{"));
    byte[] obsText = {'X', (byte) 0xC9, 'Y'};
    AsciiString lowered = HeaderNames.lowerCase(obsText, 0, 3);
    assertThat(lowered.toByteArray()).containsExactly('x', (byte) 0xC9, 'y');
  }

  @Test
  void anEmptyNameIsEmpty() {
    assertThat((Object) HeaderNames.lowerCase("")).isEqualTo(AsciiString.EMPTY_STRING);
    assertThat((Object) HeaderNames.lowerCase(new byte[] {'a'}, 1, 0)).isEqualTo(AsciiString.EMPTY_STRING);
  }
}
