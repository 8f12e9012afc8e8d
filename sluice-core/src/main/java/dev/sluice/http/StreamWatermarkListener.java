package dev.sluice.http;

/** Told when the downstream stops or resumes taking response bytes (the router pauses upstream reads). */
public interface StreamWatermarkListener {
  void onDownstreamWritabilityChanged(boolean writable);
}
