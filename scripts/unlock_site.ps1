# Unlock the PINs the system locked after too many failed logons at one
# site; PINs an admin locked stay locked. Rehearse with -WhatIf first:
#
#   pinsh --whatif scripts/unlock_site.ps1 Redmond
#   pinsh scripts/unlock_site.ps1 Redmond
if ($args.Count -ne 1) {
    throw "usage: unlock_site.ps1 SITE"
}
$site = $args[0]
Get-CsUser | Where-Object { $_.Site -eq $site } | Get-CsClientPinInfo |
    Where-Object { $_.IsLockedOut -and $_.LockedBy -eq "system" } |
    Unlock-CsClientPin
