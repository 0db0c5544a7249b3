package dev.aegis.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.reader.ReaderException;

/**
 * Reads YAML text into a Jackson tree ({@link JsonNode}) through jackson-dataformat-yaml's
 * parser, token by token, so that the limits and checks a config file needs are enforced and
 * named: duplicate keys are errors named by path (Jackson's {@code STRICT_DUPLICATE_DETECTION}),
 * nesting, string and number lengths are bounded ({@link StreamReadConstraints}), anchors and
 * aliases work (including {@code <<} merge keys) but cannot expand into a "billion laughs" bomb,
 * and a syntax error becomes one line with its position instead of a stack trace.
 *
 * <p>Why not {@code YAMLMapper.readTree}: it reads an alias as the plain text of its name
 * ({@code *check} becomes {@code "check"}), silently. Walking the tokens here resolves each alias
 * to the anchored subtree (a shared reference, never a copy) and counts what it stands for against
 * {@link #MAX_ALIAS_EXPANSION}. Jackson reads SnakeYAML's parser events, not its composed nodes, so
 * SnakeYAML's own alias, nesting and duplicate-key options never apply; only its code point limit
 * (enforced by its reader) does, and it does not count comments, so the size is also checked
 * before parsing.
 */
final class YamlTree {

    static final int MAX_CODE_POINTS = 4 * 1024 * 1024;
    /** A valid file nests about six levels; anything this deep is a mistake or an attack. */
    static final int MAX_DEPTH = 64;
    /** Values that alias uses stand for, summed; generous for sharing blocks, tiny next to a bomb. */
    static final long MAX_ALIAS_EXPANSION = 100_000;
    /** Digits of a number; Jackson's default, named here so that the error says it in our words. */
    static final int MAX_NUMBER_LENGTH = 1000;

    /*
     * A factory, not a YAMLMapper: the tree is built here from the tokens, so nothing needs an
     * ObjectMapper, and constructing one loads ~700 classes of Jackson's (de)serializer machinery at
     * startup (about 4 MB of metaspace, symbols and JIT work; README "Memory").
     */
    private static final YAMLFactory FACTORY = createFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)'", Pattern.DOTALL);
    private static final Pattern LENGTH = Pattern.compile("\\((\\d+)\\)");
    private static final String MERGE_KEY = "<<";

    private final JsonParser parser;
    private final Findings findings;
    private final Deque<Frame> open = new ArrayDeque<>();
    private final Map<String, Sized> anchors = new HashMap<>();
    private long aliasExpansion;

    private YamlTree(JsonParser parser, Findings findings) {
        this.parser = parser;
        this.findings = findings;
    }

    private static YAMLFactory createFactory() {
        // Of SnakeYAML's limits only the code point limit acts here: its alias, nesting and duplicate
        // key options belong to its composer, which Jackson does not use (see the class comment).
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_CODE_POINTS);
        StreamReadConstraints limits = StreamReadConstraints.builder()
                .maxNestingDepth(MAX_DEPTH)
                .maxNumberLength(MAX_NUMBER_LENGTH)
                .maxStringLength(MAX_CODE_POINTS)
                .maxNameLength(MAX_CODE_POINTS)
                .maxDocumentLength(MAX_CODE_POINTS)
                .build();
        return YAMLFactory.builder()
                .loaderOptions(options)
                .streamReadConstraints(limits)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // "key:" with nothing after it is null (the default applies), as in every YAML 1.2 reader.
                .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
                .build();
    }

    /**
     * @return the root of the single YAML document in {@code text}; null when the text is empty
     *         or cannot be read as YAML, the reason then being in {@code findings}
     */
    static JsonNode read(String text, Findings findings) {
        // Checked here because SnakeYAML does not count comments against its code point limit.
        if (text.length() > MAX_CODE_POINTS) {
            findings.error("", "larger than the limit of " + MAX_CODE_POINTS + " characters");
            return null;
        }
        try (JsonParser parser = FACTORY.createParser(text)) {
            YamlTree tree = new YamlTree(parser, findings);
            try {
                JsonNode root = tree.readDocument();
                if (root == null || root.isNull()) {
                    findings.error("", "the configuration is empty (proxy.listen and proxy.backends are required)");
                    return null;
                }
                if (parser.nextToken() != null) {
                    findings.error("", "more than one YAML document (a second \"---\"); Aegis reads exactly one");
                    return null;
                }
                return root;
            } catch (StreamConstraintsException e) {
                tree.limitExceeded(e);
            } catch (JsonProcessingException e) {
                tree.unreadable(e);
            }
        } catch (Stop e) {
            return null;
        } catch (IOException | YAMLException e) {
            // SnakeYAML errors that Jackson does not wrap land here.
            findings.error("", "cannot read the configuration as YAML: " + e.getMessage());
        }
        return null;
    }

    /** A limit of {@link StreamReadConstraints}, in the words of this file's other errors. */
    private void limitExceeded(StreamConstraintsException e) {
        String message = String.valueOf(e.getOriginalMessage());
        Matcher length = LENGTH.matcher(message);
        if (message.startsWith("Document nesting depth")) {
            findings.error("", "nested deeper than " + MAX_DEPTH + " levels" + at(parser));
        } else if (message.startsWith("Number value length") && length.find()) {
            findings.error(childPath(), "number too long: " + length.group(1) + " digits (at most " + MAX_NUMBER_LENGTH + ")");
        } else {
            findings.error("", "larger than the limits of a configuration file" + at(parser) + ": " + message);
        }
    }

    private void unreadable(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage());
        Matcher duplicate = DUPLICATE.matcher(message);
        if (duplicate.matches() && !open.isEmpty()) {
            open.element().key = duplicate.group(1);
            findings.error(childPath(), "duplicate key (a key may appear only once in a map)");
        } else if (e.getCause() instanceof MarkedYAMLException syntax) {
            findings.error("", "YAML syntax error" + at(syntax.getProblemMark()) + ": " + syntax.getProblem() + context(syntax));
        } else if (e.getCause() instanceof ReaderException reader) {
            findings.error("", String.format("not a text file: character U+%04X at offset %d is not allowed in YAML",
                    reader.getCodePoint(), reader.getPosition()));
        } else if (message.contains("base64")) {
            findings.error(childPath(), "invalid base64 in a !!binary value" + at(e) + ": " + message);
        } else {
            findings.error("", "YAML error" + at(e) + ": " + message);
        }
    }

    private JsonNode readDocument() throws IOException, Stop {
        JsonToken token = parser.nextToken();
        if (token == null) {
            return null;
        }
        while (true) {
            Sized value;
            switch (token) {
                case START_OBJECT, START_ARRAY -> {
                    ContainerNode<?> node = token == JsonToken.START_OBJECT ? NODES.objectNode() : NODES.arrayNode();
                    open.push(new Frame(node, childPath(), anchor()));
                    token = parser.nextToken();
                    continue;
                }
                case FIELD_NAME -> {
                    open.element().key = parser.currentName();
                    token = parser.nextToken();
                    continue;
                }
                case END_OBJECT, END_ARRAY -> {
                    Frame done = open.pop();
                    done.applyMerges();
                    value = new Sized(done.node, done.size);
                    remember(done.anchor, value);
                }
                default -> value = scalar(token);
            }
            if (open.isEmpty()) {
                return value.node;
            }
            add(open.element(), value);
            token = parser.nextToken();
            if (token == null) {
                throw stop("unexpected end of the document" + at(parser));
            }
        }
    }

    private Sized scalar(JsonToken token) throws IOException, Stop {
        if (parser instanceof YAMLParser yaml && yaml.isCurrentAlias()) {
            String name = parser.getText();
            Sized anchored = anchors.get(name);
            if (anchored == null) {
                findings.error(childPath(), "alias *" + name + " has no complete anchor &" + name + " before it");
                return new Sized(NODES.nullNode(), 1);
            }
            aliasExpansion += anchored.size;
            if (aliasExpansion > MAX_ALIAS_EXPANSION) {
                throw stop("YAML aliases expand to more than " + MAX_ALIAS_EXPANSION
                        + " values (a \"billion laughs\" bomb?)" + at(parser));
            }
            return anchored;
        }
        JsonNode node = switch (token) {
            case VALUE_STRING -> NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT -> NODES.numberNode(parser.getBigIntegerValue());
            // Not through the factory, which would normalise 1.0 to 1 and blur "expected a whole number".
            case VALUE_NUMBER_FLOAT -> DecimalNode.valueOf(parser.getDecimalValue());
            case VALUE_TRUE, VALUE_FALSE -> NODES.booleanNode(token == JsonToken.VALUE_TRUE);
            case VALUE_NULL -> NODES.nullNode();
            case VALUE_EMBEDDED_OBJECT -> NODES.pojoNode(parser.getEmbeddedObject());
            default -> throw stop("unexpected YAML token " + token + at(parser));
        };
        Sized value = new Sized(node, 1);
        remember(anchor(), value);
        return value;
    }

    private void add(Frame parent, Sized value) {
        parent.size += value.size;
        if (parent.node instanceof ArrayNode array) {
            array.add(value.node);
            return;
        }
        ObjectNode object = (ObjectNode) parent.node;
        String key = parent.key;
        if (MERGE_KEY.equals(key)) {
            if (!parent.addMerge(value.node)) {
                findings.error(childPath(), "a merge key needs a map or a list of maps, got "
                        + ConfigNode.describe(value.node));
            }
        } else {
            object.set(key, value.node); // a key written twice stops the parser (STRICT_DUPLICATE_DETECTION)
        }
    }

    private String anchor() throws IOException {
        Object id = parser.getObjectId();
        return id == null ? null : id.toString();
    }

    private void remember(String anchor, Sized value) {
        if (anchor != null) {
            anchors.put(anchor, value);
        }
    }

    /** The path of the value the parser is at, from the open containers. */
    private String childPath() {
        Frame parent = open.peek();
        if (parent == null) {
            return "";
        }
        if (parent.node instanceof ArrayNode array) {
            return parent.path + "[" + array.size() + "]";
        }
        return parent.path.isEmpty() ? parent.key : parent.path + "." + parent.key;
    }

    private Stop stop(String message) {
        findings.error("", message);
        return new Stop();
    }

    private static String at(JsonParser parser) {
        var location = parser.currentLocation();
        return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private static String at(Mark mark) {
        return mark == null ? "" : " at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    private static String context(MarkedYAMLException e) {
        return e.getContext() == null ? "" : " (" + e.getContext() + at(e.getContextMark()) + ")";
    }

    private static String at(JsonProcessingException e) {
        var location = e.getLocation();
        return location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    /** A value and how many values it stands for once its aliases are expanded. */
    private record Sized(JsonNode node, long size) {
    }

    /** A map or list being read. */
    private static final class Frame {
        final ContainerNode<?> node;
        final String path;
        final String anchor;
        final List<ObjectNode> merges = new ArrayList<>();
        long size = 1;
        String key;

        Frame(ContainerNode<?> node, String path, String anchor) {
            this.node = node;
            this.path = path;
            this.anchor = anchor;
        }

        /** @return false when {@code source} is neither a map nor a list of maps */
        boolean addMerge(JsonNode source) {
            if (source instanceof ObjectNode map) {
                merges.add(map);
                return true;
            }
            if (!(source instanceof ArrayNode list)) {
                return false;
            }
            for (JsonNode element : list) {
                if (!(element instanceof ObjectNode)) {
                    return false;
                }
            }
            list.forEach(element -> merges.add((ObjectNode) element));
            return true;
        }

        /** YAML merge keys: keys written in this map win, then earlier merged maps over later ones. */
        void applyMerges() {
            if (node instanceof ObjectNode object) {
                for (ObjectNode source : merges) {
                    source.properties().forEach(entry -> {
                        if (!object.has(entry.getKey())) {
                            object.set(entry.getKey(), entry.getValue());
                        }
                    });
                }
            }
        }
    }

    /** Reading cannot go on; the reason is already in the findings. */
    private static final class Stop extends Exception {
        Stop() {
            super(null, null, false, false);
        }
    }
}
