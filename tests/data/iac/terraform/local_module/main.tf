module "frank" {
  source   = "./modules/console-user"
  name     = "frank"
  with_key = true
}

module "grace" {
  source = "./modules/console-user"
  name   = "grace"
}
