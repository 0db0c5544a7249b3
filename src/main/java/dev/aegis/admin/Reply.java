package dev.aegis.admin;

/**
 * What an endpoint answers: an HTTP status and a body that Jackson writes as JSON
 * (maps, lists, strings, numbers, booleans).
 */
record Reply(int status, Object body) {

    static Reply ok(Object body) {
        return new Reply(200, body);
    }
}
