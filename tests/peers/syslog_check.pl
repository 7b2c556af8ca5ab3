#!/usr/bin/perl
# syslog_check.pl — what a collector received from sipwalld's exporter.
#
#   syslog_check.pl deframe FILE
#       FILE holds an octet-counted stream (RFC 5425 / RFC 6587 "LEN SP MSG",
#       as socat writes it); prints one message per line.  Exit 1 at the
#       first frame that is not "digits SP" or runs past the end.
#   syslog_check.pl check FILE N MODE [framed]
#       Counts the [meta sequenceId="ID"] of every message from sipwalld
#       (those carrying [sipwall@32473 …]); FILE has one message per line,
#       or is an octet-counted stream with "framed".
#       MODE strict: IDs 1..N, each once, in order.
#       MODE replay: each of 1..N at least once; an ID seen for the first
#         time is always the highest so far plus one (nothing skipped);
#         any other ID is a resend of one already seen (a duplicate).
#       Prints "received=R distinct=D missing=M duplicates=U" and exits 1
#       when the rule of MODE is broken (the first few reasons on stderr).
use strict;
use warnings;

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or die "$path: $!\n";
    local $/;
    my $data = <$fh>;
    close $fh;
    return defined $data ? $data : '';
}

# Splits an octet-counted stream into messages; dies on a broken frame.
sub deframe {
    my ($data) = @_;
    my @out;
    my $at = 0;
    my $len = length $data;
    while ($at < $len) {
        my $sp = index($data, ' ', $at);
        die "frame at byte $at: no SP after the length\n" if $sp < 0 || $sp - $at > 9;
        my $digits = substr($data, $at, $sp - $at);
        die "frame at byte $at: bad length '$digits'\n" unless $digits =~ /^[1-9][0-9]*$/;
        die "frame at byte $at: $digits octets announced, " . ($len - $sp - 1) . " left\n"
            if $sp + 1 + $digits > $len;
        push @out, substr($data, $sp + 1, $digits);
        $at = $sp + 1 + $digits;
    }
    return @out;
}

my $cmd = shift @ARGV // '';
if ($cmd eq 'deframe') {
    my @m = eval { deframe(slurp($ARGV[0])) };
    if ($@) { print STDERR "deframe: $@"; exit 1; }
    print "$_\n" for @m;
    exit 0;
}
die "usage: syslog_check.pl deframe FILE | check FILE N strict|replay [framed]\n"
    unless $cmd eq 'check' && @ARGV >= 3;
my ($file, $n, $mode, $framed) = @ARGV;
die "mode is strict or replay\n" unless $mode eq 'strict' || $mode eq 'replay';

my @msgs;
if (defined $framed && $framed eq 'framed') {
    @msgs = eval { deframe(slurp($file)) };
    if ($@) { print STDERR "deframe: $@"; exit 1; }
} else {
    @msgs = split /\n/, slurp($file);
}

my ($received, $dups, $max, $errors) = (0, 0, 0, 0);
my %seen;
my $complain = sub { $errors++; print STDERR "syslog_check: $_[0]\n" if $errors <= 5; };
for my $i (0 .. $#msgs) {
    my $m = $msgs[$i];
    next unless index($m, '[sipwall@32473') >= 0;
    unless ($m =~ /\[meta sequenceId="([1-9][0-9]*)"\]/) {
        $complain->("message " . ($i + 1) . " has no sequenceId: " . substr($m, 0, 120));
        next;
    }
    my $id = $1;
    $received++;
    if ($id == $max + 1) {
        $max = $id;
        $seen{$id} = 1;
    } elsif ($mode eq 'replay' && $seen{$id}) {
        $dups++;
    } else {
        $complain->("message " . ($i + 1) . ": sequenceId $id after $max");
        $seen{$id} = 1;
        $max = $id if $id > $max;
    }
}
my $distinct = scalar grep { $_ >= 1 && $_ <= $n } keys %seen;
my $missing = $n - $distinct;
$complain->("$missing of 1..$n missing") if $missing > 0;
$complain->("ids above $n received (max $max)") if $max > $n;
$complain->("$received messages for $n ids in strict mode") if $mode eq 'strict' && $received != $n;
print "received=$received distinct=$distinct missing=$missing duplicates=$dups\n";
exit($errors ? 1 : 0);
