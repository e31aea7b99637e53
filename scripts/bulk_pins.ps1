# Bulk PIN assignment from a CSV file with the columns SipAddress and Pin,
# as admins run it on a Lync server:
#
#   pinsh scripts/bulk_pins.ps1 pins.csv
#
# Each row's PIN must meet the user's PIN policy; a row that fails (no such
# user, a PIN the policy refuses, a locked PIN) is reported and the others
# go on. pinsh never shows or logs the PINs. Delete pins.csv afterwards.
if ($args.Count -ne 1) {
    throw "usage: bulk_pins.ps1 FILE.csv   (columns SipAddress and Pin)"
}
$rows = Import-Csv $args[0]
$done = 0
$failed = 0
foreach ($row in $rows) {
    try {
        Set-CsClientPin -Identity $row.SipAddress -Pin $row.Pin -ErrorAction Stop | Out-Null
        $done += 1
    }
    catch {
        Write-Host "$($row.SipAddress): $($_.Exception.Message)"
        $failed += 1
    }
}
Write-Host "$done PINs set, $failed failed"
