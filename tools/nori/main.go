// Command nori predicts, evaluates, generates synthetic data and trains.
//
//	nori predict -train train.csv -test test.csv   # predictions from the embedded checkpoint
//	nori eval    -data DIR                         # accuracy on a folder of tables
//	nori prior   -n N -out DIR                     # synthetic tables as CSV
//	nori train   -config NAME -steps N -out DIR    # pretrain a checkpoint
//
// Each subcommand lives in its own file and registers itself in init.
package main

import (
	"fmt"
	"os"
	"sort"
)

// command is one subcommand: run parses its own flags from args and returns
// an error to print (exit status 1) or nil.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) error) {
	if _, dup := commands[name]; dup {
		panic("nori: subcommand registered twice: " + name)
	}
	commands[name] = command{summary, run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: nori <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nrun 'nori <command> -h' for a command's flags")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "-help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "nori: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "nori %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
