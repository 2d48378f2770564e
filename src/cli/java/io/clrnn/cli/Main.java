package io.clrnn.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.clrnn.base.InvalidInputException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code clrnn} command line. A user's mistake prints one {@code error: …} line and exits 2;
 * a device or runtime failure exits 1; stack traces only with {@code --verbose}.
 */
@Command(name = "clrnn", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Runs PyTorch's recurrent layers (RNN, LSTM, GRU) on any OpenCL device.",
        subcommands = {DevicesCommand.class, RunCommand.class, GenerateCommand.class, ServeCommand.class,
                DemoCommand.class, InspectCommand.class, BenchCommand.class, BenchSuiteCommand.class,
                InitCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_RUNTIME = 1;
    public static final int EXIT_USAGE = 2;

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Log what clrnn does and print stack traces on errors.")
    void verbose(boolean on) {
        verbose = on;
        if (on && LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.DEBUG);
        }
    }

    private boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Every way out says something: a user's mistake or a failure as one {@code error:} line (picocli's
     * handlers, below), and what those handlers never see (an Error such as running out of memory or a
     * native library that cannot load, or a failure on another thread) here.
     */
    public static void main(String[] args) {
        PrintWriter err = new PrintWriter(System.err, true);
        Thread.setDefaultUncaughtExceptionHandler((thread, e) ->
                err.println("error: in thread " + thread.getName() + ": " + describe(e)));
        int code;
        try {
            code = run(args, new PrintWriter(System.out, true), err);
        } catch (Throwable e) {
            if (java.util.List.of(args).contains("--verbose") || java.util.List.of(args).contains("-v")) {
                e.printStackTrace(err);
            }
            err.println("error: " + describe(e));
            code = EXIT_RUNTIME;
        }
        System.out.flush();
        System.exit(code);
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        // --verbose lowers the root logger's level; put it back so one run's flag cannot outlive it.
        Level rootLevel = LoggerFactory.getILoggerFactory() instanceof LoggerContext context
                ? context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel() : null;
        try {
            return execute(args, out, err);
        } finally {
            if (rootLevel != null && LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
                context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(rootLevel);
            }
        }
    }

    private static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cli = new CommandLine(main);
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, a) -> {
            err.println("error: " + oneLine(e.getMessage()));
            err.println("(see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (main.verbose) {
                e.printStackTrace(err);
            }
            err.println("error: " + describe(e));
            return isUsersMistake(e) ? EXIT_USAGE : EXIT_RUNTIME;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static boolean isUsersMistake(Throwable e) {
        return e instanceof InvalidInputException || e instanceof NoSuchFileException
                || e instanceof AccessDeniedException || e instanceof java.nio.file.FileSystemException;
    }

    /** A one-line message for a failure, naming the file for I/O errors. */
    static String describe(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return "out of memory (" + oneLine(e.getMessage()) + "); give the JVM more with CLRNN_JAVA_OPTS=-Xmx...";
        }
        if (e instanceof NoSuchFileException f) {
            return "no such file: " + f.getFile();
        }
        if (e instanceof AccessDeniedException f) {
            return "permission denied: " + f.getFile();
        }
        if (e instanceof java.nio.file.FileSystemException f) {
            return oneLine(f.getMessage());
        }
        if (e instanceof IOException) {
            return "I/O error: " + oneLine(e.getMessage());
        }
        if (e instanceof io.clrnn.base.ClrnnException) {
            return oneLine(e.getMessage());
        }
        return "internal error: " + e + " (run with --verbose for details)";
    }

    static String oneLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline) + " (--verbose for details)";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"clrnn " + (v == null ? "dev" : v)};
        }
    }
}
