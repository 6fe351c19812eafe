# Installs Mnemoscope from this wheelhouse folder on a Windows workstation without network:
# checks every carried file against SHA256SUMS, makes a fresh virtual environment, installs
# with no package index and every wheel hash-checked, records the installation, then audits
# the bundled demo. Written for Windows PowerShell 5.1 and PowerShell 7; NOT TRIED on
# Windows (see the README), and a Linux wheelhouse holds no Windows wheels: build the
# wheelhouse on (or for) Windows first.
#
#   powershell -ExecutionPolicy Bypass -File install-offline.ps1 [-Target DIR] [-NoDemo] [-Python PATH]
param(
    [string]$Target = (Join-Path $env:USERPROFILE "mnemoscope"),
    [string]$Python = "py",
    [switch]$NoDemo
)
$ErrorActionPreference = "Stop"
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
function Say($text) { Write-Host "install-offline: $text" }

# 1. The files carried across the air gap are the ones that were built.
$bad = @()
foreach ($line in Get-Content (Join-Path $here "SHA256SUMS")) {
    $hash, $name = $line -split "  ", 2
    $file = Join-Path $here $name
    if (-not (Test-Path $file) -or (Get-FileHash -Algorithm SHA256 $file).Hash.ToLower() -ne $hash) { $bad += $name }
}
if ($bad.Count) { throw "files differ from SHA256SUMS ($($bad[0]) ...): do not install; copy the wheelhouse again" }
Say "all files match SHA256SUMS"

# 2. A fresh venv (Python 3.11: the wheels are built for it), no index, hash-checked.
$venvArgs = if ($Python -eq "py") { @("-3.11", "-m", "venv") } else { @("-m", "venv") }
if (Test-Path (Join-Path $Target "venv")) { throw "$Target\venv exists: choose a new -Target or remove it" }
New-Item -ItemType Directory -Force -Path $Target | Out-Null
& $Python @venvArgs (Join-Path $Target "venv"); if ($LASTEXITCODE) { throw "could not create the venv" }
$venvPython = Join-Path $Target "venv\Scripts\python.exe"
foreach ($name in "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT") { Remove-Item "Env:$name" -ErrorAction SilentlyContinue }
$env:PIP_CONFIG_FILE = "NUL"
& $venvPython -m pip install --quiet --disable-pip-version-check --no-index --find-links $here `
    --require-hashes --only-binary ":all:" -r (Join-Path $here "requirements.txt")
if ($LASTEXITCODE) { throw "pip install failed" }

# 3. Resources, the SBOM, and two commands that say where the resources are.
$resources = Join-Path $Target "resources"
if (Test-Path $resources) { Remove-Item -Recurse -Force $resources }
Copy-Item -Recurse (Join-Path $here "resources") $resources
Copy-Item (Join-Path $here "sbom.cdx.json"), (Join-Path $here "sbom.csv"), (Join-Path $here "BUILD_INFO.json") $Target
New-Item -ItemType Directory -Force -Path (Join-Path $Target "bin") | Out-Null
foreach ($command in "mnemoscope", "mnemoscope-desktop") {
    Set-Content -Encoding ASCII (Join-Path $Target "bin\$command.cmd") `
        "@echo off`r`nif not defined MNEMOSCOPE_RESOURCES set MNEMOSCOPE_RESOURCES=$resources`r`n`"$Target\venv\Scripts\$command.exe`" %*"
}

# 4. The installation record, then the demo audit.
$env:MNEMOSCOPE_RESOURCES = $resources
& $venvPython -m audit_core.tools.validation.installation; if ($LASTEXITCODE) { throw "recording the installation failed" }
if (-not $NoDemo) {
    # The installer's own folder: an earlier version's demo there is another audit, never replaced.
    Remove-Item -Recurse -Force -ErrorAction SilentlyContinue (Join-Path $Target "demo-audit")
    & (Join-Path $Target "venv\Scripts\mnemoscope.exe") run (Join-Path $resources "demo\plan.toml") --out (Join-Path $Target "demo-audit") --quiet
    if ($LASTEXITCODE) { throw "the demo audit failed" }
    Say "demo audit written to $Target\demo-audit"
}
Say "done. Start: $Target\bin\mnemoscope-desktop.cmd   or   $Target\bin\mnemoscope.cmd --help"
