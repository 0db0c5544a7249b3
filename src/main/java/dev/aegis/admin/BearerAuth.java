package dev.aegis.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.function.Supplier;

/**
 * The {@code admin.api_token} check (SPEC §5). The token is read on every request, so a reload
 * that changes it takes effect at once. Both sides are hashed before a constant-time
 * comparison, so the time taken tells neither the content nor the length of the token.
 */
final class BearerAuth {

    private static final String SCHEME = "Bearer ";

    private final Supplier<String> token;

    BearerAuth(Supplier<String> token) {
        this.token = token;
    }

    /** @return whether a request with this {@code Authorization} header (may be null) may change state */
    boolean permits(String authorization) {
        String expected = token.get();
        if (expected == null || expected.isEmpty()) {
            return true;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return false;
        }
        String given = authorization.substring(SCHEME.length()).trim();
        return MessageDigest.isEqual(sha256(expected), sha256(given));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
