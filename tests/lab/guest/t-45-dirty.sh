#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `vfiomig dirty`: range rules refused before the driver, page-size negotiation, exact reports (read-and-clear) through watch and sessions, and every kernel's and driver's refusal explained.
. /tests/lib.sh
V=$VFIOMIG
A=$EDU_A
D=$DBG/$A

[ "$LAB_TEST_DRIVER" = vfiomig_test ] || skip_all "needs the vfiomig_test driver (tests/kmod)"

# REPORT needs the kernel's dirty-bitmap code: part of vfio before 6.7, then of
# CONFIG_IOMMUFD_DRIVER, which Debian's stock 6.12 lacks (the lab kernel has it).
if ! kver_ge 6 7 || kconfig_has IOMMUFD_DRIVER; then
	HAVE_REPORT=1
else
	HAVE_REPORT=0
fi
diag "$KVER: DMA_LOGGING_REPORT $( [ $HAVE_REPORT = 1 ] && echo works || echo 'fails with EOPNOTSUPP')"

# jqok DESC FILTER: the last run's stdout is JSON and FILTER holds for it.
jqok() {
	check "$1" jq -e "$2" "$OUT_FILE"
}

# The explanation of a REPORT on a kernel without the bitmap code.
check_no_bitmap_code() {
	check_rc 3 "$1: exits 3 (not supported)"
	check_err "was built without CONFIG_IOMMUFD_DRIVER, so the VFIO core has no dirty-bitmap code and DMA_LOGGING_REPORT fails with EOPNOTSUPP for every driver; START and STOP still work" \
		"$1: says the kernel lacks CONFIG_IOMMUFD_DRIVER"
	check "$1: names the kernel ($KVER)" grep -qF "this kernel ($KVER) was built without" "$ERR_FILE"
	check_err '(hint: |"hint":")boot a kernel built with CONFIG_IOMMUFD_DRIVER=y' "$1: gives the remedy"
}

echo off >"$D/dirty_on_start"

# ---- Refused before the driver: nothing is opened, no ioctl is sent (-v traces both).
# refuse WHAT REGEX ARGS...
refuse() {
	_what=$1 _re=$2
	shift 2
	run $V -v dirty "$@"
	check_rc 2 "$_what: a usage error (exit 2)"
	check_err "$_re" "$_what: says why"
	check_err_not "debug: (open|ioctl)" "$_what: the device is never opened"
}
refuse "an unaligned IOVA" \
	"range 2 \(0x1200,0x1000\): IOVA 0x1200 is not a multiple of the page size 0x1000; the kernel would answer EINVAL" \
	start "$A" --range 0,4K --range 0x1200,4K
refuse "an unaligned length" "range 1 \(0x0,0x1800\): length 0x1800 is not a multiple of the page size 0x1000" \
	start "$A" --range 0,6K
refuse "overlapping ranges" "ranges 1 \(0x0,0x2000\) and 3 \(0x1000,0x1000\) overlap at 0x1000-0x1fff" \
	start "$A" --range 0,8K --range 1M,4K --range 4K,4K
refuse "an empty range" "range 1 \(0x0,0x0\) is empty" start "$A" --range 0,0
refuse "a range past 2^64" "ends past the top of the 64-bit IOVA space; the kernel would answer EOVERFLOW" \
	start "$A" --range 0xfffffffffffff000,4K
refuse "a page size not a power of two" "page size 12288 \(0x3000\) is not a power of two" \
	start "$A" --range 0,48K --page-size 12K
refuse "a range without its length" "invalid --range '4K': missing ','" start "$A" --range 4K
refuse "a length that is no number" "invalid --range '0x1000,4Q': length '4Q' is not a number" \
	start "$A" --range 0x1000,4Q
refuse "report pages below 4 KiB" \
	"page size 2048 \(0x800\) is not a power of two of at least 4096; the kernel would answer EINVAL" \
	report "$A" --range 0,4K --page-size 2K
refuse "overlapping report ranges" "reading the log clears it" report "$A" --range 0,8K --range 4K,4K
refuse "--bitmap-out with two ranges" "--bitmap-out takes one --range" \
	report "$A" --range 0,4K --range 8K,4K --bitmap-out x
refuse "watch without --range" "--range is required" watch "$A"
# 257 ranges: one more than a 4 KiB kernel page holds.
set --
i=0
while [ $i -lt 257 ]; do
	set -- "$@" --range "$((i * 8192)),4K"
	i=$((i + 1))
done
refuse "257 ranges" "257 ranges: the kernel takes at most 256 .* would answer E2BIG" start "$A" "$@"
is "$(cat "$D/logging")" off "after all that the driver is not logging"

# ---- Plain vfio-pci has no logging ops: ENOTTY from the core.
for sub in start report; do
	run $V dirty $sub "$E1000E" --range 0,1M
	check_rc 3 "dirty $sub on e1000e (plain vfio-pci): exit 3"
	check_err "dirty logging is not supported by '$E1000E': driver vfio-pci has no DMA logging" "dirty $sub on e1000e: explained"
	check_err "hint: variant drivers such as mlx5_vfio_pci" "dirty $sub on e1000e: with what does log"
done
run $V dirty stop "$E1000E"
check_rc 3 "dirty stop on e1000e: exit 3 too"

# ---- Page-size negotiation, one process each: the driver's choice is printed.
run $V dirty start "$A" --range 0x100000,1M
check_rc 0 "dirty start exits 0"
check_out "^page size    4096$" "the default 4 KiB is what the driver chose"
check_out "^  0x100000-0x1fffff  256 pages$" "the range and its pages"
check_err "note: dirty logging on $A stops when vfiomig exits" "without a session: logging ends with the command, and it says so"
is "$(cat "$D/logging")" off "and it did end: closing the device stopped it"
negotiate() {
	run $V -j dirty start "$A" --range "$1" --page-size "$2"
	check_rc 0 "start --range $1 --page-size $2 exits 0"
	jqok "--page-size $2 over $1: the driver chose $3" ".page_size == $3 and .requested_page_size == $4"
}
negotiate 0,1M 1K 4096 1024               # clamped up to 4 KiB
negotiate 0,4M 2M 2097152 2097152         # taken as asked
negotiate 0,128G 4K 8192 4096             # doubled: the driver keeps at most 2^24 pages
negotiate 0,4G 2G 1073741824 2147483648   # clamped down to 1 GiB
run $V dirty start "$A" --range 0,128G
check_out "^page size    8192 \\(4096 was asked for\\)$" "text shows a choice that differs from the request"

# ---- Without a session: stop has nothing to end, report finds no log.
run $V dirty stop "$A"
check_rc 0 "dirty stop exits 0"
check_out "^$A: dirty logging stopped$" "dirty stop says so"
check_err "note: no session holds $A, so it had no logging to stop" "and notes that nothing could have been running"
run $V dirty report "$A" --range 0,1M
if [ $HAVE_REPORT = 1 ]; then
	check_rc 1 "dirty report without a session: exit 1"
	check_err "cannot read the dirty log of '$A': logging is not running: closing a VFIO device stops its logging" \
		"explains that the log ended with the process that started it"
	check_err "hint: 'vfiomig dirty watch $A --range \\.\\.\\.' starts, reports and stops in one run" "and what works instead"
else
	check_no_bitmap_code "dirty report on $KVER"
fi

# ---- watch: the driver marks spans at START (dirty_on_start), as if the device wrote them at once.
# Range 1 is pages 0-255; range 2 is 16 pages at 2 MiB. Pages 63 and 64 straddle a
# bitmap word; 0xff000 is range 1's last page; 0x300000 lies outside both (not logged).
echo "0x1000 0x2000 0x3f000 0x2000 0xff000 0x1000 0x200000 1 0x300000 0x1000" >"$D/dirty_on_start"
is "$(cat "$D/dirty_on_start")" "0x1000 0x2000 0x3f000 0x2000 0xff000 0x1000 0x200000 0x1 0x300000 0x1000" "dirty_on_start reads back"
run $V -j dirty watch "$A" --range 0,1M --range 0x200000,64K --count 2 --interval 0
if [ $HAVE_REPORT = 1 ]; then
	check_rc 0 "watch --count 2 exits 0"
	jqok "watch: page size 4096, two reports, logging stopped" \
		'.page_size == 4096 and (.reports | length) == 2 and .stopped == true'
	jqok "report 1: exactly the 6 pages marked at START" \
		'.reports[0] | .dirty_pages == 6 and .pages == 272 and .dirty_bytes == 24576 and .extent_count == 4'
	jqok "report 1: per range, 5 dirty in 3 extents and 1 in 1" \
		'[.reports[0].ranges[] | [.dirty_pages, .extent_count]] == [[5, 3], [1, 1]]'
	jqok "report 1: the extents as IOVA ranges" \
		'[.reports[0].extents[] | [.iova, .length, .pages]] == [[4096, 8192, 2], [258048, 8192, 2], [1044480, 4096, 1], [2097152, 4096, 1]]'
	jqok "report 1: the ratio is 6/272" '.reports[0].dirty_ratio > 0.02205 and .reports[0].dirty_ratio < 0.02207'
	jqok "report 2: read-and-clear left nothing" \
		'.reports[1] | .dirty_pages == 0 and .extent_count == 0 and (.extents | length) == 0'
else
	check_no_bitmap_code "watch on $KVER"
	jqok "watch still printed the start and stopped the logging" '.page_size == 4096 and .stopped == true'
fi
is "$(cat "$D/logging")" off "after watch the driver is not logging"

if [ $HAVE_REPORT = 1 ]; then
	run $V dirty watch "$A" --range 0,1M --range 0x200000,64K --count 2 --interval 0 --max-extents 3
	check_rc 0 "watch in text exits 0"
	check_out "^report 1 at [0-9.]+ s$" "text: a line per report"
	check_out "^dirty        6 of 272 pages \\(2\\.21%\\), 24\\.0 KiB$" "text: the totals"
	check_out "^  0x3f000-0x40fff  2 pages$" "text: the run across a bitmap word"
	check_out "^  \\.\\.\\. and 1 more \\(--max-extents 0 lists them all\\)$" "text: --max-extents 3 cuts the fourth"
	check_out "^dirty        0 of 272 pages \\(0%\\), 0 bytes$" "text: the second report is clean"
	check_out "^dirty logging stopped$" "text: logging stopped at the end"

	# The driver logs 8 KiB pages when asked: the reports follow its choice.
	run $V -j dirty watch "$A" --range 0,1M --page-size 8K --count 1
	jqok "8 KiB pages: 0x1000-0x2fff spans pages 0 and 1, 0x3f000-0x40fff pages 31 and 32, 0xff000 page 127" \
		'.page_size == 8192 and .reports[0].dirty_pages == 5 and [.reports[0].extents[] | [.iova, .pages]] == [[0, 2], [253952, 2], [1040384, 1]]'
	# 64 GiB + 4 KiB from 4 KiB on is 2^24 + 1 pages of 4 KiB: the driver doubles its
	# pages to 8 KiB, which the range does not start on, so the reports stay at 4 KiB.
	echo "0x1000 0x1000" >"$D/dirty_on_start"
	run $V -j dirty watch "$A" --range 0x1000,0x1000001000 --count 1
	check_rc 0 "watch of a range unaligned to the driver's pages exits 0"
	jqok "the driver chose 8192, the reports use 4096" '.page_size == 8192 and .report_page_size == 4096'
	jqok "the driver's 8 KiB page is reported as the 4 KiB page inside the range" \
		'.reports[0].dirty_pages == 1 and .reports[0].extents == [{"iova": 4096, "length": 4096, "pages": 1}]'

	# Until interrupted: Ctrl-C ends it cleanly, with logging stopped and exit 0.
	echo off >"$D/dirty_on_start"
	$V dirty watch "$A" --range 0,64K --interval 0.2 >watch.out 2>watch.err &
	pid=$!
	sleep 1
	kill -INT $pid
	rc=0
	wait $pid || rc=$?
	is "$rc" 0 "watch without --count ends with exit 0 on SIGINT"
	check "and stopped the logging first" grep -q "^dirty logging stopped$" watch.out
	is "$(cat "$D/logging")" off "the driver agrees"
else
	skip "no REPORT on $KVER" "watch in text, driver-chosen pages, SIGINT"
fi
echo off >"$D/dirty_on_start"

# ---- A session holds the device: start, report and stop in separate invocations.
run $V open "$A"
check_rc 0 "open $A for a session"
run $V dirty start "$A" --range 0,1M --range 0x200000,64K
check_rc 0 "dirty start in the session exits 0"
check_err_not "stops when vfiomig exits" "no 'stops when vfiomig exits' note inside a session"
is "$(cat "$D/logging")" "on page_size=4096 ranges=0x0:0x100000,0x200000:0x10000" "the driver logs the two ranges after the command returned"

run $V dirty start "$A" --range 0,1M
check_rc 1 "a second start fails"
check_err "the driver refused: logging is probably running already \\(mlx5_vfio_pci and pds_vfio_pci answer a second START with EINVAL\\)" \
	"the driver's EINVAL is explained"
check_err "hint: 'vfiomig dirty stop $A' ends the running log" "with the way out"
is "$(cat "$D/logging")" "on page_size=4096 ranges=0x0:0x100000,0x200000:0x10000" "the first log runs on untouched"
run $V dirty watch "$A" --range 0,64K
check_rc 2 "watch without --count in a session: a usage error"
check_err "in a session, watch needs --count N: the session's holder runs it" "since Ctrl-C cannot reach the holder"
run $V dirty watch "$A" --range 0,64K --count 1
check_rc 1 "watch in a session that logs already: its start fails"
check_err "logging is probably running already" "explained as for dirty start"
is "$(cat "$D/logging")" "on page_size=4096 ranges=0x0:0x100000,0x200000:0x10000" "and the running log is left alone"

echo "0x5000 0x3000" >"$D/dirty"
echo "0x200000 0x10000" >"$D/dirty"
run $V -j dirty report "$A" --range 0,1M --range 0x200000,64K
if [ $HAVE_REPORT = 1 ]; then
	check_rc 0 "dirty report in the session exits 0"
	jqok "the report holds exactly the pages marked through debugfs" \
		'.dirty_pages == 19 and [.extents[] | [.iova, .length]] == [[20480, 12288], [2097152, 65536]] and .extents_truncated == false'
	run $V -j dirty report "$A" --range 0,1M --range 0x200000,64K
	jqok "a second report finds them cleared" '.dirty_pages == 0 and .extents == []'

	# A report page size larger than the log's: the driver spreads each page over the bitmap's.
	echo "0x5000 0x1000" >"$D/dirty"
	run $V -j dirty report "$A" --range 0,2M --page-size 2M
	jqok "one 4 KiB page dirty shows as one 2 MiB page" \
		'.page_size == 2097152 and .pages == 1 and .dirty_pages == 1 and .extents[0].iova == 0'

	# The raw bitmap, decoded offline, says what the report said.
	echo "0x3f000 0x2000" >"$D/dirty"
	echo "0xff000 0x1000" >"$D/dirty"
	run $V -j dirty report "$A" --range 0,1M --bitmap-out bm.bin
	check_rc 0 "report --bitmap-out exits 0"
	cp "$OUT_FILE" report.json
	is "$(stat -c %s bm.bin)" 32 "the bitmap of 256 pages is 32 bytes (4 u64 words)"
	jqok "report names the file" '.bitmap_file == "bm.bin" and .bitmap_bytes == 32'
	run $V -j dirty decode bm.bin --iova 0 --page-size 4K
	check_rc 0 "dirty decode of the saved bitmap exits 0"
	is "$(jq -c '[.dirty_pages, .pages, .extents]' report.json)" "$(jq -c '[.dirty_pages, .pages, .extents]' "$OUT_FILE")" \
		"decode and report agree on pages and extents"
	jqok "decode: 3 pages in 2 extents" '.dirty_pages == 3 and .extent_count == 2'
else
	check_no_bitmap_code "dirty report in the session on $KVER"
fi

run $V dirty stop "$A"
check_rc 0 "dirty stop in the session exits 0"
check_err_not "no session holds" "no 'nothing to stop' note inside a session"
is "$(cat "$D/logging")" off "the driver stopped logging"
run $V dirty report "$A" --range 0,1M
if [ $HAVE_REPORT = 1 ]; then
	check_rc 1 "report after stop: exit 1"
	check_err "logging is not running \\(not started, or stopped\\)" "explained for a held device"
else
	check_no_bitmap_code "report after stop on $KVER"
fi
run $V close "$A"
check_rc 0 "close the session"

# ---- Driver faults, injected through the test driver.
# A tracker that spans at most 1 MiB, as mlx5_vfio_pci bounds its span: 1 MiB +
# 64 KiB rounds up to 2 MiB, past it; START fails with EOPNOTSUPP.
echo 0x100000 >"$D/log_max_span"
run $V dirty start "$A" --range 0,1M --range 0x200000,64K
check_rc 3 "a span past the driver's limit: EOPNOTSUPP, exit 3"
check_err "cannot start dirty logging on '$A': the driver cannot track these ranges: they total 1\.1 MiB, 2\^21 bytes rounded up to a power of two" \
	"the refusal gives the total and its power of two"
check_err "hint: log less" "and the remedy"
run $V -j dirty start "$A" --range 0,1M --range 0x200000,64K
check "the JSON error is EOPNOTSUPP" jq -e '.error.errno_name == "EOPNOTSUPP"' "$ERR_FILE"
run $V dirty start "$A" --range 0,1M
check_rc 0 "exactly the limit (1 MiB) is taken"
echo 0 >"$D/log_max_span"
is "$(cat "$D/logging")" off "no log outlives the commands"

# A tracker that fails (EIO) on the second of three ranges: the first was read
# and cleared before, so its pages are printed; the second is lost; the third
# was not read.
if [ $HAVE_REPORT = 1 ]; then
	R3="--range 0,1M --range 0x200000,64K --range 0x400000,64K"
	run $V open "$A"
	check_rc 0 "open $A for the failing tracker"
	run $V dirty start "$A" $R3
	check_rc 0 "start three ranges"
	echo "0x5000 0x3000" >"$D/dirty"
	echo "0x200000 0x1000" >"$D/dirty"
	echo "0x400000 0x2000" >"$D/dirty"
	echo "0x200000 5" >"$D/fail_report"
	is "$(cat "$D/fail_report")" "0x200000 5" "fail_report reads back"
	run $V -j dirty report "$A" $R3
	check_rc 1 "a REPORT failing with EIO exits 1"
	check "the error explains EIO as a lost log" jq -e '.error.errno_name == "EIO" and (.error.reason | test("the driver lost the log"))' "$ERR_FILE"
	jqok "range 1, read and cleared before the failure, is printed" \
		'(.ranges | length) == 1 and .dirty_pages == 3 and [.extents[] | [.iova, .length]] == [[20480, 12288]]'
	jqok "range 2 is lost, range 3 not read" \
		'.lost_range == {"iova": 2097152, "length": 65536} and .unread_ranges == [{"iova": 4194304, "length": 65536}]'
	jqok "the notes say which ranges were read and which were not" \
		'(.notes | map(test("range 1 of '"$A"' was read and cleared before range 2 failed")) | any) and (.notes | map(test("range 3 was not read")) | any)'
	is "$(cat "$D/fail_report")" off "the fault fired once"
	# Text; the fault again, on the first range this time: nothing was read.
	echo "0x0 5" >"$D/fail_report"
	run $V dirty report "$A" $R3
	check_rc 1 "EIO on range 1: exit 1"
	check_out "^lost         0x0-0xfffff: the failed report lost its log, count all of it dirty$" "text: the lost range"
	check_out "^not read     0x200000-0x20ffff$" "text: the ranges not read"
	check_err "ranges 2 to 3 were not read" "the note names them"
	check_err_not "read and cleared before" "and no range was read"
	# The pages of range 1 were cleared by the first report; range 3 still holds its own.
	run $V -j dirty report "$A" $R3
	check_rc 0 "the next report works"
	jqok "range 1 was cleared by the partial report, range 3 was not read before" \
		'[.ranges[] | .dirty_pages] == [0, 1, 2]'
	# One range: the error says it all.
	echo "0x0 5" >"$D/fail_report"
	run $V -j dirty report "$A" --range 0,1M
	check_rc 1 "EIO on a single range: exit 1"
	check_out_not "lost_range|unread_ranges" "a single range prints no partial document"
	run $V dirty stop "$A"
	run $V close "$A"
	check_rc 0 "close the session"
	echo off >"$D/fail_report"
else
	skip "no REPORT on $KVER" "a REPORT failing with EIO"
fi

# ---- decode offline: bytes typed here, no device.
printf '\001\000\000\000\000\000\000\200\001' >nine.bin
run $V dirty decode nine.bin --iova 0x100000 --page-size 4K
check_rc 0 "decode of a 9-byte bitmap (not whole words) exits 0"
check_out "^range        0x100000-0x147fff: 72 pages, 3 dirty in 2 extents$" "every bit of the file is a page"
check_out "^  0x13f000-0x140fff  2 pages$" "the run across the word boundary"
run $V dirty decode nine.bin --iova 0 --page-size 4K --length 1M
check_rc 4 "decode with a --length the file is too short for: exit 4"
check_err "the file holds 9 bytes \\(72 pages\\), the range needs 32 bytes \\(256 pages\\)" "and says by how much"

done_testing
