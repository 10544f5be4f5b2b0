package io.diminuendo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.core.Response;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Keeps the code native-image friendly without building a native image (we cannot here): JSON is read as Jackson
 * trees and written by hand, so no class is mapped by reflection; any class that Jackson databind does map must
 * carry {@link RegisterForReflection}. REST resources exchange strings, and nothing loads classes or resources by
 * name at run time.
 */
class NativeReadinessTest {
    private static final Path MAIN_SOURCES = Path.of("src", "main", "java");
    private static final Path MAIN_CLASSES = Path.of("target", "classes");

    /** Jackson databind calls that map JSON to a type: the type must be a tree or registered for reflection. */
    private static final Pattern READ_CALL = Pattern.compile(
            "\\.(readValue|readValues|treeToValue|convertValue|readerFor|readerForUpdating|updateValue)\\s*\\(");
    /** Jackson databind calls that serialise an arbitrary object by reflection. */
    private static final Pattern WRITE_CALL = Pattern.compile(
            "\\.(writeValueAsString|writeValueAsBytes|writeValue|valueToTree|writerFor|writerWithType)\\s*\\(");
    private static final Pattern CLASS_LITERAL = Pattern.compile("\\b([A-Z][\\w.]*)\\.class\\b");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import\\s+([\\w.]+)\\s*;");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");
    private static final Pattern DYNAMIC_LOADING = Pattern.compile(
            "Class\\.forName\\s*\\(|\\.getResource(AsStream)?\\s*\\(|Proxy\\.newProxyInstance\\s*\\(|\\.defineClass\\s*\\(|\\.loadClass\\s*\\(");
    /** A resource read by name, with the string its name starts with. */
    private static final Pattern RESOURCE_BY_NAME = Pattern.compile("\\.getResource(AsStream)?\\s*\\(\\s*\"([^\"]*)\"");
    private static final Pattern NATIVE_INCLUDES = Pattern.compile("(?m)^quarkus\\.native\\.resources\\.includes=(.*)$");

    @Test
    void mainCodeMapsJsonOnlyToTreesOrToClassesRegisteredForReflection() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path file : mainSources()) {
            problems.addAll(databindProblems(file.toString(), Files.readString(file)));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void everyClassCarryingJacksonAnnotationsIsRegisteredForReflection() throws Exception {
        List<String> unregistered = new ArrayList<>();
        for (Class<?> type : mainClasses()) {
            if (usesJacksonAnnotations(type) && !type.isAnnotationPresent(RegisterForReflection.class)) {
                unregistered.add(type.getName());
            }
        }
        assertThat(unregistered).isEmpty();
    }

    @Test
    void restResourcesExchangeStringsAndResponsesOnly() throws Exception {
        Set<Class<? extends Annotation>> verbs = Set.of(GET.class, POST.class, PUT.class, PATCH.class, DELETE.class);
        List<String> problems = new ArrayList<>();
        int resourceMethods = 0;
        for (Class<?> type : mainClasses()) {
            if (!type.isAnnotationPresent(jakarta.ws.rs.Path.class)) {
                continue;
            }
            for (Method m : type.getDeclaredMethods()) {
                if (verbs.stream().noneMatch(m::isAnnotationPresent)) {
                    continue;
                }
                resourceMethods++;
                if (!isStringOrResponse(m.getGenericReturnType())) {
                    problems.add(m + " returns " + m.getGenericReturnType());
                }
                for (Parameter p : m.getParameters()) {
                    boolean body = Stream.of(p.getAnnotations())
                            .noneMatch(a -> a.annotationType().getPackageName().startsWith("jakarta.ws.rs"));
                    if (body && p.getType() != String.class) {
                        problems.add(m + " takes a " + p.getType().getName() + " body");
                    }
                }
            }
        }
        assertThat(resourceMethods).as("REST resource methods found").isPositive();
        assertThat(problems).isEmpty();
    }

    @Test
    void nothingLoadsClassesOrResourcesByNameAtRunTime() throws IOException {
        List<String> found = new ArrayList<>();
        List<String> included = nativeResourceIncludes();
        for (Path file : mainSources()) {
            String source = Files.readString(file);
            Matcher m = DYNAMIC_LOADING.matcher(source);
            while (m.find()) {
                // a resource the native image is told to hold (quarkus.native.resources.includes) is fine
                Matcher resource = RESOURCE_BY_NAME.matcher(source);
                boolean packaged = resource.find(m.start()) && resource.start() == m.start()
                        && included.stream().anyMatch(prefix -> !resource.group(2).isEmpty()
                                && resource.group(2).startsWith(prefix));
                if (!packaged) {
                    found.add(file + ": " + m.group());
                }
            }
        }
        assertThat(found).isEmpty();
    }

    /** The folders of {@code quarkus.native.resources.includes} in application.properties, e.g. {@code console/}. */
    private static List<String> nativeResourceIncludes() throws IOException {
        Matcher m = NATIVE_INCLUDES.matcher(Files.readString(Path.of("src", "main", "resources", "application.properties")));
        List<String> prefixes = new ArrayList<>();
        if (m.find()) {
            for (String glob : m.group(1).split(",")) {
                prefixes.add(glob.strip().replaceAll("\\*+$", ""));
            }
        }
        return prefixes;
    }

    // --- the scanner checks itself, so that an empty result above means something

    record Unregistered(String type) {
    }

    @RegisterForReflection
    record Registered(String type) {
    }

    @Test
    void theScannerFlagsAnUnregisteredRecordAndObjectSerialisation() {
        String source = """
                package io.diminuendo.example;

                import com.fasterxml.jackson.databind.node.ObjectNode;
                import io.diminuendo.NativeReadinessTest.Registered;
                import io.diminuendo.NativeReadinessTest.Unregistered;

                class Example {
                    void use(com.fasterxml.jackson.databind.ObjectMapper mapper, String text) throws Exception {
                        mapper.readTree(text);
                        mapper.readValue(text, ObjectNode.class);
                        mapper.readValue(text, Registered.class);
                        mapper.readValue(text, Unregistered.class);
                        mapper.convertValue(mapper.readTree(text), new com.fasterxml.jackson.core.type.TypeReference<java.util.List<String>>() { });
                        mapper.writeValueAsString(new Registered("x"));
                    }
                }
                """;
        List<String> problems = databindProblems("Example.java", source);
        assertThat(problems).hasSize(3);
        assertThat(problems.get(0)).contains("Unregistered");
        assertThat(problems.get(1)).contains("convertValue");
        assertThat(problems.get(2)).contains("writeValueAsString");
    }

    private static List<String> databindProblems(String file, String source) {
        List<String> problems = new ArrayList<>();
        Matcher read = READ_CALL.matcher(source);
        while (read.find()) {
            String args = arguments(source, read.end());
            Matcher literal = CLASS_LITERAL.matcher(args);
            boolean typed = false;
            while (literal.find()) {
                typed = true;
                Class<?> target = resolve(source, literal.group(1));
                if (target == null) {
                    problems.add(file + ": " + read.group(1) + " to unresolvable " + literal.group(1));
                } else if (!JsonNode.class.isAssignableFrom(target) && !target.isAnnotationPresent(RegisterForReflection.class)) {
                    problems.add(file + ": " + read.group(1) + " maps JSON to " + target.getName()
                            + " by reflection; annotate it with @RegisterForReflection or read a JsonNode");
                }
            }
            if (!typed) {
                problems.add(file + ": " + read.group(1) + "(" + args + ") maps to a type this test cannot check");
            }
        }
        Matcher write = WRITE_CALL.matcher(source);
        while (write.find()) {
            problems.add(file + ": " + write.group(1) + " serialises an object by reflection;"
                    + " write JSON with io.diminuendo.protocol.Json instead");
        }
        return problems;
    }

    /** The text between the parenthesis opened just before {@code from} and its match. */
    private static String arguments(String source, int from) {
        int depth = 1;
        for (int i = from; i < source.length(); i++) {
            char c = source.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return source.substring(from, i);
            }
        }
        return source.substring(from);
    }

    /** Resolves a class name as written in {@code source}: qualified, imported, same package or java.lang. */
    private static Class<?> resolve(String source, String name) {
        List<String> candidates = new ArrayList<>(List.of(name, "java.lang." + name));
        String first = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
        Matcher imp = IMPORT.matcher(source);
        while (imp.find()) {
            if (imp.group(1).endsWith("." + first)) {
                candidates.add(0, imp.group(1) + name.substring(first.length()));
            }
        }
        Matcher pkg = PACKAGE.matcher(source);
        if (pkg.find()) {
            candidates.add(pkg.group(1) + "." + name);
        }
        for (String candidate : candidates) {
            String binary = candidate;
            while (true) {
                try {
                    return Class.forName(binary, false, NativeReadinessTest.class.getClassLoader());
                } catch (ClassNotFoundException e) {
                    int dot = binary.lastIndexOf('.');
                    if (dot < 0) {
                        break;
                    }
                    binary = binary.substring(0, dot) + "$" + binary.substring(dot + 1);
                }
            }
        }
        return null;
    }

    private static boolean isStringOrResponse(Type type) {
        if (type == String.class || type == Response.class) {
            return true;
        }
        return type instanceof ParameterizedType p && p.getRawType() == CompletionStage.class
                && isStringOrResponse(p.getActualTypeArguments()[0]);
    }

    private static boolean usesJacksonAnnotations(Class<?> type) {
        List<AnnotatedElement> elements = new ArrayList<>(List.of(type));
        elements.addAll(List.of(type.getDeclaredFields()));
        elements.addAll(List.of(type.getDeclaredMethods()));
        elements.addAll(List.of(type.getDeclaredConstructors()));
        if (type.isRecord()) {
            elements.addAll(List.of(type.getRecordComponents()));
        }
        return elements.stream().flatMap(e -> Stream.of(e.getAnnotations()))
                .anyMatch(a -> a.annotationType().getPackageName().startsWith("com.fasterxml.jackson"));
    }

    private static List<Path> mainSources() throws IOException {
        try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
    }

    private static List<Class<?>> mainClasses() throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(MAIN_CLASSES.resolve("io"))) {
            files = walk.filter(f -> f.toString().endsWith(".class")).sorted().toList();
        }
        assertThat(files).as("compiled classes under " + MAIN_CLASSES).isNotEmpty();
        List<Class<?>> classes = new ArrayList<>();
        for (Path f : files) {
            String name = MAIN_CLASSES.relativize(f).toString().replace(f.getFileSystem().getSeparator(), ".");
            classes.add(Class.forName(name.substring(0, name.length() - ".class".length()), false,
                    NativeReadinessTest.class.getClassLoader()));
        }
        return classes;
    }
}
