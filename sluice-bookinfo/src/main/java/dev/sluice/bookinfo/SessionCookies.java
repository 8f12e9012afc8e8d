package dev.sluice.bookinfo;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * productpage's session: the signed-in user held in a {@code session} cookie as
 * {@code base64url(user).base64url(HMAC-SHA256(user))}, like Flask's signed session cookie. The key
 * is random per process, so a restarted productpage forgets its sessions.
 */
public final class SessionCookies {
  static final String NAME = "session";

  private final SecretKeySpec key;

  public SessionCookies(byte[] key) {
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
  }

  public static SessionCookies withRandomKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new SessionCookies(key);
  }

  /** The Set-Cookie value that signs {@code user} in. */
  String signIn(String user) {
    byte[] value = user.getBytes(StandardCharsets.UTF_8);
    return NAME + "=" + encode(value) + "." + encode(sign(value)) + "; Path=/; HttpOnly; SameSite=Lax";
  }

  /** The Set-Cookie value that signs out (removes the cookie). */
  String signOut() {
    return NAME + "=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax";
  }

  /** The user a request's valid session cookie names; empty without one or with a forged one. */
  Optional<String> user(ServiceRequest request) {
    for (String header : request.headerValues("cookie")) {
      for (String pair : header.split(";")) {
        String trimmed = pair.strip();
        if (trimmed.startsWith(NAME + "=")) {
          Optional<String> user = verify(trimmed.substring(NAME.length() + 1));
          if (user.isPresent()) {
            return user;
          }
        }
      }
    }
    return Optional.empty();
  }

  private Optional<String> verify(String cookie) {
    int dot = cookie.indexOf('.');
    if (dot < 1) {
      return Optional.empty();
    }
    try {
      byte[] value = Base64.getUrlDecoder().decode(cookie.substring(0, dot));
      byte[] signature = Base64.getUrlDecoder().decode(cookie.substring(dot + 1));
      return MessageDigest.isEqual(signature, sign(value))
          ? Optional.of(new String(value, StandardCharsets.UTF_8)).filter(user -> !user.isEmpty())
          : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private byte[] sign(byte[] value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac.doFinal(value);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  private static String encode(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
