locals {
  a     = local.b
  b     = local.a
  s0    = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  s1    = "${local.s0}${local.s0}${local.s0}${local.s0}"
  s2    = "${local.s1}${local.s1}${local.s1}${local.s1}"
  s3    = "${local.s2}${local.s2}${local.s2}${local.s2}"
  s4    = "${local.s3}${local.s3}${local.s3}${local.s3}"
  s5    = "${local.s4}${local.s4}${local.s4}${local.s4}"
  s6    = "${local.s5}${local.s5}${local.s5}${local.s5}"
  s7    = "${local.s6}${local.s6}${local.s6}${local.s6}"
  s8    = "${local.s7}${local.s7}${local.s7}${local.s7}"
  s9    = "${local.s8}${local.s8}${local.s8}${local.s8}"
  s10   = "${local.s9}${local.s9}${local.s9}${local.s9}"
  sum   = 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1
}

resource "aws_iam_user" "loop" {
  name = local.a
}

resource "aws_iam_user_login_profile" "loop" {
  user = aws_iam_user.loop.name
}

resource "aws_iam_access_key" "loop" {
  count = length(local.s10) > 0 ? 1 : 0
  user  = aws_iam_user.loop.name
}
