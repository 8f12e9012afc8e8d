package dev.sluice.bookinfo;

/** A bad command line or environment; the message is the one line shown to the user. */
public final class UsageException extends Exception {
  public UsageException(String message) {
    super(message);
  }
}
