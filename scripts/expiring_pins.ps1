# The PINs that expire within the next DAYS days (default 14), soonest
# first, to remind their owners before they are shut out. PINs that have
# expired already, and PINs that never expire, are left out.
#
#   pinsh scripts/expiring_pins.ps1 [DAYS]
$days = 14
if ($args.Count -gt 0) { $days = $args[0] }
$limit = (Get-Date).AddDays($days)
Get-CsUser | Get-CsClientPinInfo |
    Where-Object { $_.IsPinSet -and -not $_.IsPinExpired -and $_.PinExpirationTime -ne $null -and $_.PinExpirationTime -le $limit } |
    Sort-Object PinExpirationTime |
    Select-Object Identity, DisplayName, PinExpirationTime
