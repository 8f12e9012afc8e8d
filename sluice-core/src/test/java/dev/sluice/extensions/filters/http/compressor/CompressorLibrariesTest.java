package dev.sluice.extensions.filters.http.compressor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aayushatharva.brotli4j.decoder.Decoder;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.github.luben.zstd.ZstdInputStream;
import com.google.protobuf.UInt32Value;
import dev.sluice.api.config.ConfigException;
import dev.sluice.extensions.compression.brotli.BrotliCompressorFactory;
import dev.sluice.extensions.compression.gzip.GzipCompressorFactory;
import dev.sluice.extensions.compression.zstd.ZstdCompressorFactory;
import io.envoyproxy.envoy.extensions.compression.brotli.compressor.v3.Brotli;
import io.envoyproxy.envoy.extensions.compression.gzip.compressor.v3.Gzip;
import io.envoyproxy.envoy.extensions.compression.zstd.compressor.v3.Zstd;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

/** The three libraries: chunked, flushed output that standard decoders read back; config checks. */
class CompressorLibrariesTest {
  private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
  private static final String TEXT = "# HELP envoy_cluster_upstream_rq_total Total requests\n".repeat(200);

  /** Feeds TEXT in three chunks (heap, direct, direct), the last finishing; returns all output. */
  private static byte[] stream(CompressorLibrary library, ByteArrayOutputStream firstChunkOut) {
    byte[] all = TEXT.getBytes(StandardCharsets.UTF_8);
    int third = all.length / 3;
    ByteBuf[] chunks = {
        Unpooled.wrappedBuffer(all, 0, third),
        ALLOC.directBuffer().writeBytes(all, third, third),
        ALLOC.directBuffer().writeBytes(all, 2 * third, all.length - 2 * third)};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (StreamCompressor c = library.newCompressor()) {
      for (int i = 0; i < chunks.length; i++) {
        int before = chunks[i].readerIndex();
        ByteBuf piece = c.compress(chunks[i], i == chunks.length - 1, ALLOC);
        assertThat(chunks[i].readerIndex()).isEqualTo(before);
        assertThat(piece.isReadable()).as("every chunk is flushed").isTrue();
        byte[] bytes = new byte[piece.readableBytes()];
        piece.readBytes(bytes);
        piece.release();
        out.writeBytes(bytes);
        if (i == 0) {
          firstChunkOut.writeBytes(bytes);
        }
        chunks[i].release();
      }
    }
    assertThat(out.size()).isLessThan(all.length / 4);
    return out.toByteArray();
  }

  @Test
  void gzipIsAGzipMemberAndEachChunkIsDecodableAtOnce() throws Exception {
    CompressorLibrary gzip = new GzipCompressorFactory().create(Gzip.newBuilder()
        .setCompressionLevel(Gzip.CompressionLevel.BEST_COMPRESSION)
        .setCompressionStrategy(Gzip.CompressionStrategy.RLE)
        .setWindowBits(UInt32Value.of(12)).setMemoryLevel(UInt32Value.of(5)).build());
    assertThat(gzip.contentEncoding()).isEqualTo("gzip");
    assertThat(gzip.statsPrefix()).isEqualTo("gzip");
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    byte[] body = stream(gzip, first);
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
    }
    // SYNC_FLUSH: the first chunk's output alone inflates to the first third.
    byte[] head = first.toByteArray();
    Inflater inflater = new Inflater(true);
    inflater.setInput(head, 10, head.length - 10);
    byte[] plain = new byte[TEXT.length()];
    int n = inflater.inflate(plain);
    inflater.end();
    assertThat(n).isEqualTo(TEXT.length() / 3);
  }

  @Test
  void brotliRoundTrips() throws Exception {
    CompressorLibrary br = new BrotliCompressorFactory().create(Brotli.newBuilder()
        .setQuality(UInt32Value.of(5)).setEncoderMode(Brotli.EncoderMode.TEXT).build());
    assertThat(br.contentEncoding()).isEqualTo("br");
    assertThat(br.statsPrefix()).isEqualTo("brotli");
    byte[] body = stream(br, new ByteArrayOutputStream());
    var result = Decoder.decompress(body);
    assertThat(result.getResultStatus()).isEqualTo(DecoderJNI.Status.DONE);
    assertThat(new String(result.getDecompressedData(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
  }

  @Test
  void zstdRoundTripsWithChecksum() throws IOException {
    CompressorLibrary zstd = new ZstdCompressorFactory().create(Zstd.newBuilder()
        .setEnableChecksum(true).setStrategy(Zstd.Strategy.LAZY).build());
    assertThat(zstd.contentEncoding()).isEqualTo("zstd");
    assertThat(zstd.statsPrefix()).isEqualTo("zstd");
    byte[] body = stream(zstd, new ByteArrayOutputStream());
    try (ZstdInputStream in = new ZstdInputStream(new ByteArrayInputStream(body))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(TEXT);
    }
  }

  @Test
  void emptyBodiesFinishValidStreams() throws IOException {
    CompressorLibrary gzip = new GzipCompressorFactory().create(Gzip.getDefaultInstance());
    try (StreamCompressor c = gzip.newCompressor()) {
      ByteBuf out = c.compress(Unpooled.EMPTY_BUFFER, true, ALLOC);
      byte[] bytes = new byte[out.readableBytes()];
      out.readBytes(bytes).release();
      try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
        assertThat(in.readAllBytes()).isEmpty();
      }
    }
  }

  @Test
  void outOfRangeValuesNameTheirField() {
    assertThatThrownBy(() -> new GzipCompressorFactory().create(Gzip.newBuilder().setWindowBits(UInt32Value.of(16)).build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("window_bits"));
    assertThatThrownBy(() -> new GzipCompressorFactory().create(Gzip.newBuilder().setMemoryLevel(UInt32Value.of(0)).build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("memory_level"));
    assertThatThrownBy(() -> new GzipCompressorFactory().create(Gzip.newBuilder().setChunkSize(UInt32Value.of(100)).build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("chunk_size"));
    assertThatThrownBy(() -> new BrotliCompressorFactory().create(Brotli.newBuilder().setQuality(UInt32Value.of(12)).build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("quality"));
    assertThatThrownBy(() -> new BrotliCompressorFactory().create(Brotli.newBuilder().setWindowBits(UInt32Value.of(9)).build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("window_bits"));
    assertThatThrownBy(() -> new ZstdCompressorFactory().create(Zstd.newBuilder().setCompressionLevel(UInt32Value.of(23)).build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("compression_level"));
  }
}
